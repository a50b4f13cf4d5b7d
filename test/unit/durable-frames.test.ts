/** Which frame a member of a durable room gets of a publication: the event, or a position frame when an exclusion leaves it out. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterPublication } from '../../src/cluster/adapter.js';
import type { Recipient } from '../../src/server/broadcast.js';
import { durableFrameFor, excludedFromLive, PublicationFrames } from '../../src/server/durable-frames.js';

const member = (id: string): Recipient => ({ id }) as Recipient;
const [alice, bob, carol] = [member('alice'), member('bob'), member('carol')];
/** Each member is in the room of its id; carol is also in 'muted' (namespace '/team' only). */
const inRoom = (ns: string, room: string, r: Recipient): boolean => room === r.id || (ns === '/team' && room === 'muted' && r === carol);

const publication = (ns: string, except?: string[]): ClusterPublication => ({
  ns,
  room: 'chat',
  stream: 'any',
  position: { epoch: 'e1', offset: 7 },
  payload: JSON.stringify({ type: 'event', event: 'msg', data: 'hi', room: 'chat', ...(ns === '/' ? {} : { ns }) }),
  ...(except ? { except } : {}),
});

describe('durableFrameFor', () => {
  it('gives the event with its position to members the publication does not exclude', () => {
    const frames = new PublicationFrames(publication('/'), inRoom);
    const frame = durableFrameFor(frames, alice);
    assert.deepEqual(JSON.parse(frame.payload.toString()), { type: 'event', event: 'msg', data: 'hi', room: 'chat', position: { epoch: 'e1', offset: 7 } });
    assert.equal(durableFrameFor(frames, bob), frame, 'encoded once, shared');
  });

  it('gives a position frame, encoded once, to members in an excluded room (a socket id is a room)', () => {
    const frames = new PublicationFrames(publication('/team', ['alice', 'muted']), inRoom);
    const position = durableFrameFor(frames, alice);
    assert.deepEqual(JSON.parse(position.payload.toString()), { type: 'position', ns: '/team', room: 'chat', position: { epoch: 'e1', offset: 7 } });
    assert.equal(durableFrameFor(frames, carol), position, 'shared by the excluded members');
    assert.equal(JSON.parse(durableFrameFor(frames, bob).payload.toString()).type, 'event');
  });

  it('leaves out ns in the root namespace, and excludes nobody without exclusions', () => {
    const p = publication('/', ['bob']);
    assert.deepEqual(JSON.parse(durableFrameFor(new PublicationFrames(p, inRoom), bob).payload.toString()), { type: 'position', room: 'chat', position: { epoch: 'e1', offset: 7 } });
    assert.equal(excludedFromLive(p, carol, inRoom), false, "'muted' is a room of /team only");
    assert.equal(excludedFromLive(publication('/'), alice, inRoom), false);
  });
});
