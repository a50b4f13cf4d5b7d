/**
 * stats({ rooms: k }) keeps the k busiest rooms while it counts (top-k, not a sort of every
 * room): the result must be what sorting all rooms would give — most members first, then
 * namespace, then room name — for any k, ties included.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js';
import { ServerCounters } from '../../src/server/server-counters.js';
import { ServerLog } from '../../src/server/server-log.js';
import type { RoomStats } from '../../src/server/server-stats.js';
import { collectStats, type CountedNamespace } from '../../src/server/stats-collector.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** A namespace as stats() reads it: rooms with sizes, and sockets whose own rooms are skipped. */
function namespace(name: string, sizes: Map<string, number>, sockets: string[] = []): CountedNamespace {
  return { name, sockets: new Map(sockets.map((id) => [id, {}])), rooms: { names: () => sizes.keys(), size: (room) => sizes.get(room) ?? 0 } };
}

function everyRoomSorted(namespaces: CountedNamespace[]): RoomStats[] {
  const all: RoomStats[] = [];
  for (const nsp of namespaces) for (const room of nsp.rooms.names()) if (!nsp.sockets.has(room)) all.push({ namespace: nsp.name, room, members: nsp.rooms.size(room) });
  return all.sort((a, b) => b.members - a.members || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) || (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
}

describe('stats({ rooms }): the busiest rooms', () => {
  const counters = new ServerCounters(new ServerLog(undefined));
  const cluster = new MemoryAdapter();

  test('the same as sorting every room, for k = 1, 3, 10 and more than there are (many ties)', () => {
    const random = seededRandom(18);
    const namespaces = ['/', '/chat', '/admin'].map((name) => {
      const sizes = new Map<string, number>();
      for (let i = 0; i < 300; i++) sizes.set(`room-${random.int(0, 999)}`, random.int(1, 6));
      const sockets = [...sizes.keys()].slice(0, 5);
      return namespace(name, sizes, sockets);
    });
    const expected = everyRoomSorted(namespaces);
    for (const k of [1, 3, 10, expected.length + 5]) {
      assert.deepEqual(collectStats(counters, [], namespaces, cluster, { rooms: k }).busiestRooms, expected.slice(0, k), `k = ${k}`);
    }
  });

  test('ties: namespace, then room name by code units (uppercase before lowercase); none without rooms asked for', () => {
    const namespaces = [namespace('/b', new Map([['x', 2]])), namespace('/a', new Map([['b', 2], ['B', 2], ['a', 2], ['big', 9]]))];
    assert.deepEqual(collectStats(counters, [], namespaces, cluster, { rooms: 4 }).busiestRooms, [
      { namespace: '/a', room: 'big', members: 9 },
      { namespace: '/a', room: 'B', members: 2 },
      { namespace: '/a', room: 'a', members: 2 },
      { namespace: '/a', room: 'b', members: 2 },
    ]);
    assert.deepEqual(collectStats(counters, [], namespaces, cluster, {}).busiestRooms, []);
    assert.deepEqual(collectStats(counters, [], namespaces, cluster, { rooms: 0 }).busiestRooms, []);
  });
});
