import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { PrivateRedis } from '../helpers/cluster-processes.js';
import { testPrefix } from '../helpers/redis.js';
import { eventually, startServer } from '../helpers/server.js';

interface Pos {
  epoch: string;
  offset: number;
}

const HISTORY = { maxMessages: 10_000, maxAge: 600_000 };
const RECONNECT = { delay: 100, maxDelay: 500 };

/** What one SDK client's handler saw of the room, and the recoveries it was told about. */
interface Receiver {
  client: SwitchboardClient;
  seen: Pos[];
  recoveries: { recovered: boolean; position: Pos }[];
}

function receive(client: SwitchboardClient): Receiver {
  const r: Receiver = { client, seen: [], recoveries: [] };
  client.on('n', (_data, meta) => void r.seen.push(meta.position as Pos));
  client.on('recovery', (info) => void r.recoveries.push({ recovered: info.recovered, position: info.position as Pos }));
  return r;
}

/** How far into `epoch` the client is accounted for: publications its handler saw, or that a `recovered: false` told it it missed. */
function accountedTo(r: Receiver, epoch: string): number {
  const offsets = [...r.seen.filter((p) => p.epoch === epoch).map((p) => p.offset), ...r.recoveries.filter((x) => !x.recovered && x.position.epoch === epoch).map((x) => x.position.offset)];
  return Math.max(0, ...offsets);
}

describe('cluster: Redis restarts without persistence', () => {
  let redis: PrivateRedis;
  const servers: Switchboard[] = [];
  const urls: string[] = [];
  const prefix = testPrefix('redis-restart');

  before(async () => {
    redis = await PrivateRedis.start({ persistent: false });
    for (let i = 0; i < 2; i++) {
      const { sb, url } = await startServer({ adapter: new RedisAdapter(redis.url, { prefix, onError: () => {} }) });
      sb.durable('feed', HISTORY);
      // Presence and session saves fail while Redis is away; this test is about the stream.
      sb.on('error', () => {});
      servers.push(sb);
      urls.push(url);
    }
  });

  after(async () => {
    await Promise.all(servers.map((sb) => sb.close()));
    await redis.destroy();
  });

  test('the new epoch is delivered whole, or the members are cut off and told recovered: false: never a silent hole', async () => {
    const [sb0] = servers as [Switchboard, Switchboard];
    const join = async (url: string): Promise<Receiver> => {
      const client = connect(url, { reconnect: RECONNECT });
      const r = receive(client);
      await client.join('feed');
      return r;
    };
    // Node 0's members are there for the old epoch's publications; node 1's join after them,
    // so node 1 delivered nothing of the room before Redis restarts.
    const early = await Promise.all([join(urls[0]!), join(urls[0]!), join(urls[0]!)]);
    for (let n = 1; n <= 5; n++) await sb0.to('feed').publish('n', { n });
    for (const r of early) await eventually(() => r.seen.length === 5, 'the old epoch on node 0');
    const late = await Promise.all([join(urls[1]!), join(urls[1]!), join(urls[1]!)]);
    const receivers = [...early, ...late];
    const oldEpoch = early[0]!.seen[0]!.epoch;

    await redis.stop();
    await redis.startAgain();
    // Publications of the new epoch made at once, while the nodes' subscribers are still away...
    const emitter = new Emitter(redis.url, { prefix }).durable('feed', HISTORY);
    const first = await emitter.to('feed').publish('n', { n: 6 });
    assert.notEqual(first.epoch, oldEpoch, 'Redis kept its data: not the scenario under test');
    assert.equal(first.offset, 1);
    await emitter.to('feed').publish('n', { n: 7 });
    await emitter.to('feed').publish('n', { n: 8 });
    // ...and more once both nodes hear the bus again.
    const watcher = new Redis(redis.url);
    const subscribed = async (): Promise<number> => ((await watcher.call('PUBSUB', 'NUMSUB', `${prefix}:bus`)) as [string, number])[1];
    for (const started = Date.now(); (await subscribed()) < 2; ) {
      if (Date.now() - started > 10_000) throw new Error('the nodes did not subscribe again');
      await new Promise((r) => setTimeout(r, 20));
    }
    watcher.disconnect();
    const last = 10;
    for (let n = 9; n <= 5 + last; n++) await emitter.to('feed').publish('n', { n });
    await emitter.close();

    for (const [i, r] of receivers.entries()) {
      await eventually(() => accountedTo(r, first.epoch) >= last, `client ${i} to see offset ${last} of the new epoch or be told it missed it`, 15_000);
    }
    for (const [i, r] of receivers.entries()) {
      const who = `client ${i} on node ${i < 3 ? 0 : 1}`;
      const old = r.seen.filter((p) => p.epoch === oldEpoch).map((p) => p.offset);
      assert.deepEqual(old, i < 3 ? [1, 2, 3, 4, 5] : [], `${who}: the old epoch`);
      const fresh = r.seen.filter((p) => p.epoch === first.epoch).map((p) => p.offset);
      for (let k = 1; k < fresh.length; k++) assert.ok(fresh[k]! > fresh[k - 1]!, `${who}: ${fresh[k - 1]} then ${fresh[k]}`);
      // Every publication of the new epoch reached the handler, or a recovered: false covers it.
      const told = Math.max(0, ...r.recoveries.filter((x) => !x.recovered && x.position.epoch === first.epoch).map((x) => x.position.offset));
      const missing = Array.from({ length: last }, (_, k) => k + 1).filter((k) => k > told && !fresh.includes(k));
      assert.deepEqual(missing, [], `${who}: silently skipped (told recovered: false up to ${told}; saw ${fresh.join(',')})`);
      // Its position was in the lost epoch: the documented outcome is a cut-off and recovered: false.
      assert.ok(r.recoveries.some((x) => !x.recovered), `${who}: never told recovered: false (saw ${fresh.join(',')})`);
    }
    for (const r of receivers) r.client.close();
  });
});
