import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomRegistry } from '../../src/server/rooms.js';

test('a room holds one member as is and a set from the second; membership reads the same either way', () => {
  const rooms = new RoomRegistry<{ id: string }>();
  const [a, b, c] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  assert.equal(rooms.add('r', a), true);
  assert.equal(rooms.add('r', a), false, 'already in');
  assert.equal(rooms.held('r'), a, 'one member: no set');
  assert.deepEqual([...(rooms.members('r') ?? [])], [a]);
  assert.equal(rooms.has('r', a) && !rooms.has('r', b), true);
  assert.equal(rooms.add('r', b), true);
  assert.ok(rooms.held('r') instanceof Set);
  rooms.add('r', c);
  assert.equal(rooms.size('r'), 3);
  assert.equal(rooms.remove('r', b), true);
  assert.equal(rooms.remove('r', b), false);
  assert.equal(rooms.remove('r', c), true);
  assert.equal(rooms.held('r'), a, 'back to one member');
  assert.equal(rooms.size('r'), 1);
  assert.equal(rooms.remove('r', c), false, 'not a member');
  assert.equal(rooms.remove('r', a), true);
  assert.equal(rooms.members('r'), undefined, 'the room is gone with its last member');
  assert.equal(rooms.size('r'), 0);
  assert.equal(rooms.count, 0);
});
