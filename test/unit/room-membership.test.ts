import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RoomMembership, type RoomMember } from '../../src/server/room-membership.js';

class Member implements RoomMember {
  joinedRooms: Set<string> | undefined;
  constructor(
    readonly id: string,
    public connected = true,
  ) {}
}

interface CountingSession {
  changes: number;
  notices: number;
  membershipChanging(): void;
  changed(): void;
}

function setup(): { rooms: RoomMembership<Member>; heard: string[]; session: CountingSession } {
  const heard: string[] = [];
  const rooms = new RoomMembership<Member>({
    entered: (m, room) => heard.push(`+${m.id}:${room}`),
    left: (m, room) => heard.push(`-${m.id}:${room}`),
  });
  const session: CountingSession = {
    changes: 0,
    notices: 0,
    membershipChanging() {
      this.notices++;
    },
    changed() {
      this.changes++;
    },
  };
  return { rooms, heard, session };
}

describe('RoomMembership', () => {
  test('a member in its own room only carries no set; joining more keeps both records in step', () => {
    const { rooms, heard, session } = setup();
    const a = new Member('a');
    rooms.join(a, session, 'a');
    assert.equal(a.joinedRooms, undefined);
    assert.deepEqual([...rooms.roomsOf(a)], ['a']);
    rooms.join(a, session, ['lobby', 'lobby', 'news']);
    assert.deepEqual([...rooms.roomsOf(a)], ['a', 'lobby', 'news']);
    assert.deepEqual([...(rooms.registry.members('lobby') ?? [])], [a]);
    assert.deepEqual(heard, ['+a:a', '+a:lobby', '+a:news'], 'told once per room entered');
    assert.deepEqual(rooms.saved(a), ['lobby', 'news'], 'its own room is not saved');
    assert.equal(session.changes, 3);
  });

  test('leave and leaveAll take the member out of the registry and its set, and tell who listens', () => {
    const { rooms, heard, session } = setup();
    const a = new Member('a');
    rooms.join(a, session, ['a', 'lobby', 'news']);
    heard.length = 0;
    rooms.leave(a, session, 'lobby');
    rooms.leave(a, session, 'lobby');
    assert.deepEqual(heard, ['-a:lobby']);
    assert.equal(rooms.registry.size('lobby'), 0);
    rooms.leaveAll(a);
    assert.deepEqual(heard, ['-a:lobby', '-a:a', '-a:news']);
    assert.equal(a.joinedRooms, undefined);
    assert.equal(rooms.registry.count, 0);
  });

  test('a member not in its namespace joins nothing', () => {
    const { rooms, heard, session } = setup();
    const gone = new Member('g', false);
    rooms.join(gone, session, 'lobby');
    assert.equal(rooms.registry.size('lobby'), 0);
    assert.deepEqual(heard, []);
    assert.equal(session.notices, 0);
  });
});
