/**
 * DurableFeed against the in-memory stream store, with recipients that record what they are
 * handed: gaps filled from the store keep the stored exclusions, and a new epoch is never
 * delivered as if it followed the old one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterPublication } from '../../src/cluster/adapter.js';
import { DEFAULT_HISTORY_LIMITS, streamKey } from '../../src/delivery/durable-rooms.js';
import { MemoryStreamStore } from '../../src/delivery/memory-stream-store.js';
import { RoomSequencer } from '../../src/delivery/room-sequencer.js';
import type { StreamStore } from '../../src/delivery/stream-store.js';
import type { Recipient } from '../../src/server/broadcast.js';
import { DurableFeed, type FeedJoiner } from '../../src/server/durable-feed.js';
import { ResumeLog } from '../../src/server/resume-log.js';
import { ServerCounters } from '../../src/server/server-counters.js';
import { ServerLog } from '../../src/server/server-log.js';
import type { SharedFrame } from '../../src/transport/shared-frame.js';

const STREAM = streamKey('/', 'chat');

/** A member that records the frames it is handed ("event 3", "position 3") and whether it was cut off. */
interface Member extends Recipient {
  got: string[];
  cutOff: boolean;
}

function memberNamed(id: string): Member {
  const m = {
    id,
    got: [] as string[],
    cutOff: false,
    deliverDurable(frame: SharedFrame) {
      if (m.cutOff) return; // a closing connection takes nothing more (Session.sendDurable)
      const f = JSON.parse(frame.payload.toString()) as { type: string; position: { offset: number } };
      m.got.push(`${f.type} ${f.position.offset}`);
    },
    lostPublications() {
      m.cutOff = true;
    },
  };
  return m as unknown as Member;
}

/** A feed whose store can be swapped (a restart that lost the streams), with the members of room 'chat'. */
function feedWith(members: Set<Recipient>): { feed: DurableFeed; streams: { store: StreamStore; sequencer: RoomSequencer }; errors: unknown[] } {
  const streams = { store: new MemoryStreamStore() as StreamStore, sequencer: new RoomSequencer() };
  const errors: unknown[] = [];
  const feed = new DurableFeed(streams, {
    held: (_ns, room) => (room === 'chat' && members.size > 0 ? members : undefined),
    has: (_ns, room, r) => room === r.id,
    resumeLog: new ResumeLog(1 << 20),
    durableLimits: () => DEFAULT_HISTORY_LIMITS,
    reportError: (err) => void errors.push(err),
    counters: new ServerCounters(new ServerLog(undefined)),
  });
  return { feed, streams, errors };
}

async function append(store: StreamStore, n: number, except?: string[]): Promise<ClusterPublication> {
  const payload = JSON.stringify({ type: 'event', event: 'n', data: n, room: 'chat' });
  const position = await store.append(STREAM, payload, DEFAULT_HISTORY_LIMITS, except && { except });
  return { ns: '/', room: 'chat', stream: STREAM, position, payload, ...(except && { except }) };
}

/** Let the feed's sequenced work finish. */
async function settled(streams: { sequencer: RoomSequencer }): Promise<void> {
  await streams.sequencer.run(STREAM, () => undefined);
}

function joinerFor(member: Member, members: Set<Recipient>): FeedJoiner {
  return {
    recipient: member,
    connected: true,
    replay: (frame) => member.deliverDurable(frame),
    enter: () => void members.add(member),
  };
}

describe('DurableFeed', () => {
  it('a gap filled from the store leaves out the members the stored exclusions name', async () => {
    const [ann, bob] = [memberNamed('ann'), memberNamed('bob')];
    const members = new Set<Recipient>([ann, bob]);
    const { feed, streams, errors } = feedWith(members);
    feed.arrive(await append(streams.store, 1));
    await append(streams.store, 2, ['bob']); // its announcement is lost
    feed.arrive(await append(streams.store, 3, ['ann']));
    await settled(streams);
    assert.deepEqual(errors, []);
    assert.deepEqual(ann.got, ['event 1', 'event 2', 'position 3']);
    assert.deepEqual(bob.got, ['event 1', 'position 2', 'event 3']);
  });

  it('a publication of a new epoch cuts off the members positioned in the old one, and a joiner of the new epoch gets it whole', async () => {
    const [ann, bob] = [memberNamed('ann'), memberNamed('bob')];
    const members = new Set<Recipient>([ann]);
    const { feed, streams, errors } = feedWith(members);
    feed.arrive(await append(streams.store, 1));
    await settled(streams);

    // The store lost the stream (a Redis without persistence restarted): a new epoch.
    streams.store = new MemoryStreamStore();
    await append(streams.store, 1); // not heard here
    const second = await append(streams.store, 2); // not heard here either
    // Bob joins in the new epoch (this node has not seen it yet), then the third arrives.
    await feed.join('/', 'chat', undefined, DEFAULT_HISTORY_LIMITS, joinerFor(bob, members));
    const third = await append(streams.store, 3);
    feed.arrive(third);
    await settled(streams);
    assert.deepEqual(errors, []);
    assert.equal(ann.cutOff, true, 'ann was at offset 1 of the old epoch: told, not moved on silently');
    assert.deepEqual(ann.got, ['event 1']);
    assert.equal(bob.cutOff, false);
    assert.deepEqual(bob.got, ['event 3'], `bob joined at ${second.position.offset} of the new epoch`);
  });

  it('a lone joiner places the stream: a later publication past its position is a gap to fill', async () => {
    const ann = memberNamed('ann');
    const members = new Set<Recipient>();
    const { feed, streams, errors } = feedWith(members);
    await append(streams.store, 1);
    await feed.join('/', 'chat', undefined, DEFAULT_HISTORY_LIMITS, joinerFor(ann, members));
    await append(streams.store, 2); // its announcement is lost
    feed.arrive(await append(streams.store, 3));
    await settled(streams);
    assert.deepEqual(errors, []);
    assert.deepEqual(ann.got, ['event 2', 'event 3']);
  });
});
