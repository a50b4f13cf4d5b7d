/**
 * The pure parts of cancelling a token stream: the request's check, `TokenStream.cancel()`
 * and `signal` over an in-memory publisher (what is published, what is refused after), and
 * the process registry that a cancel request looks streams up in.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { REMEMBERED_ENDED, streamRegistry } from '../../src/token-streams/stream-registry.js';
import type { TokenStreamPublisher } from '../../src/token-streams/index.js';
import { TokenStream } from '../../src/token-streams/token-stream.js';
import { readCancelRequest } from '../../src/token-streams/wire.js';

/** A publisher that keeps what is published, in order; `refuse` makes every publication fail. */
class RecordingPublisher implements TokenStreamPublisher {
  readonly published: { room: string; event: string; data: Record<string, unknown> }[] = [];
  refuse = false;
  to(room: string) {
    return {
      publish: async (event: string, data: Record<string, unknown>) => {
        if (this.refuse) throw Object.assign(new Error('store away'), { code: 'cluster_unavailable' });
        this.published.push({ room, event, data });
      },
    };
  }
}

const codeOf = (reason: unknown): unknown => (reason as { code?: unknown }).code;

test('readCancelRequest takes { room, id } and nothing malformed', () => {
  assert.deepEqual(readCancelRequest({ room: 'chat:1', id: 'a', extra: 1 }), { room: 'chat:1', id: 'a' });
  for (const bad of [null, 'x', {}, { room: 'chat:1' }, { id: 'a' }, { room: '', id: 'a' }, { room: 'r'.repeat(257), id: 'a' }, { room: 'chat:1', id: '' }, { room: 'chat:1', id: 'i'.repeat(129) }, { room: 1, id: 'a' }]) {
    assert.equal(readCancelRequest(bad), undefined, JSON.stringify(bad));
  }
});

test('cancel(): publishes the pending text, then fail `cancelled` with the text so far; aborts the signal; refuses everything after', async () => {
  const publisher = new RecordingPublisher();
  const stream = new TokenStream(publisher, 'chat:1', { id: 'm', meta: { role: 'assistant' }, idleTimeout: 0 });
  const aborted = once(stream.signal, 'abort');
  stream.append('Hello ');
  stream.append('world');
  await stream.cancel('the user pressed Stop');
  await aborted;
  assert.equal(stream.signal.aborted, true);
  assert.equal(codeOf(stream.signal.reason), 'cancelled');
  assert.equal(stream.state, 'failed');
  assert.deepEqual(
    publisher.published.map((p) => [p.event, p.data]),
    [
      ['token-stream:start', { id: 'm', meta: { role: 'assistant' } }],
      ['token-stream:chunk', { id: 'm', index: 0, text: 'Hello world' }],
      ['token-stream:fail', { id: 'm', code: 'cancelled', message: 'the user pressed Stop', chunks: 1, text: 'Hello world', meta: { role: 'assistant' } }],
    ],
  );
  assert.throws(() => stream.append('more'), { code: 'cancelled' });
  await assert.rejects(stream.finish(), { code: 'cancelled' });
  await assert.rejects(stream.fail('x'), { code: 'cancelled' });
  await assert.rejects(stream.cancel(), { code: 'stream_closed' });
  assert.equal(publisher.published.length, 3, 'nothing published after the fail');
});

test('the signal: aborted by the idle timeout and by a failed publication, not by finish() or fail()', async () => {
  const finished = new TokenStream(new RecordingPublisher(), 'chat:1', { idleTimeout: 0 });
  finished.append('x');
  await finished.finish();
  const failed = new TokenStream(new RecordingPublisher(), 'chat:1', { idleTimeout: 0 });
  await failed.fail('model_error');
  assert.deepEqual([finished.signal.aborted, failed.signal.aborted], [false, false]);

  const idle = new TokenStream(new RecordingPublisher(), 'chat:1', { idleTimeout: 1 });
  await once(idle.signal, 'abort');
  assert.equal(codeOf(idle.signal.reason), 'idle_timeout');

  const publisher = new RecordingPublisher();
  publisher.refuse = true;
  const refused = new TokenStream(publisher, 'chat:1', { idleTimeout: 0 });
  await once(refused.signal, 'abort');
  assert.equal(codeOf(refused.signal.reason), 'publish_failed');
  assert.throws(() => refused.append('x'), { code: 'stream_closed' });
});

test('the registry finds a stream while it streams, by room, id and publisher; then remembers that it ended, a bounded number of them', async () => {
  const mine = new RecordingPublisher();
  const theirs = new RecordingPublisher();
  const stream = new TokenStream(mine, 'chat:reg', { id: 'r1', idleTimeout: 0 });
  const ownedByMine = (p: TokenStreamPublisher): boolean => p === mine;
  const found = streamRegistry.find('chat:reg', 'r1', ownedByMine);
  assert.equal(found.found === 'streaming' && found.stream, stream);
  assert.equal(streamRegistry.find('chat:reg', 'r1', (p) => p === theirs).found, 'none', 'another publisher’s r1 is another message');
  assert.equal(streamRegistry.find('chat:other', 'r1', ownedByMine).found, 'none');
  await stream.finish();
  assert.equal(streamRegistry.find('chat:reg', 'r1', ownedByMine).found, 'ended');

  // The memory of ended streams is bounded: the oldest is forgotten first.
  for (let i = 0; i < REMEMBERED_ENDED; i++) await new TokenStream(mine, 'chat:reg', { id: `filler-${i}`, idleTimeout: 0 }).fail();
  assert.equal(streamRegistry.find('chat:reg', 'r1', ownedByMine).found, 'none');
  assert.equal(streamRegistry.find('chat:reg', `filler-${REMEMBERED_ENDED - 1}`, ownedByMine).found, 'ended');
});
