/**
 * Stopping a token stream from a reader ("Stop generating") against a real server, the real
 * SDK and real Redis: `reader.cancel(id)` reaches the producer (its signal aborts, the message
 * ends `cancelled` with its text so far in every reader), a client outside the room is
 * refused, a finished or unknown message is refused with its code, a request that lands on
 * another node reaches the producer's node, and a producer no node holds is reached through
 * the app's relay.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { acceptTokenStreamCancels, failTokenStream, startTokenStream, type TokenStream } from '../../src/token-streams/index.js';
import { type TokenMessage, type TokenStreamClient, TokenStreamReader } from '../../src/token-streams/client/index.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';

const WAIT_MS = 10_000;
const opened: { close(): void }[] = [];
after(() => {
  for (const thing of opened) thing.close();
});

function client(url: string): SwitchboardClient {
  const c = connect(url, { transports: ['websocket'] });
  opened.push(c);
  return c;
}

function reader(c: TokenStreamClient, room: string): TokenStreamReader {
  const r = new TokenStreamReader(c, room);
  opened.push(r);
  return r;
}

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<{ sb: Switchboard; url: string }> {
  const started = await startServer(options);
  opened.push({ close: () => void started.sb.close() });
  return started;
}

/** Resolve with message `id` once `check` holds for it (checked on each of the reader's events). */
function until(r: TokenStreamReader, id: string, check: (m: TokenMessage) => boolean, what: string): Promise<TokenMessage> {
  const now = r.message(id);
  if (now && check(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}; message: ${JSON.stringify(r.message(id))}`));
    }, WAIT_MS);
    const onChange = (): void => {
      const m = r.message(id);
      if (!m || !check(m)) return;
      off();
      resolve(m);
    };
    const off = (): void => {
      clearTimeout(timer);
      r.off('message', onChange).off('reset', onChange);
    };
    r.on('message', onChange).on('reset', onChange);
  });
}

/** A producer loop as an app writes it: pulls a token each macrotask until the signal says stop. */
function produce(stream: TokenStream): { pulled: () => number; stopped: Promise<void> } {
  let pulled = 0;
  const stopped = (async () => {
    while (!stream.signal.aborted) {
      stream.append(`w${pulled} `);
      pulled++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  return { pulled: () => pulled, stopped };
}

const cancelled = (m: TokenMessage): boolean => m.failed && m.error?.code === 'cancelled';

describe('token stream cancels', () => {
  test('a reader cancels a message mid-stream: the producer’s signal aborts, every reader keeps the text so far, marked cancelled', async () => {
    const { sb, url } = await server();
    sb.of('/ai').durable(/^ai:/);
    acceptTokenStreamCancels(sb, { namespace: '/ai' });
    const a = reader(client(url).of('/ai'), 'ai:stop');
    const b = reader(client(url).of('/ai'), 'ai:stop');
    await Promise.all([a.ready, b.ready]);

    const stream = startTokenStream(sb.of('/ai'), 'ai:stop', { id: 'answer', meta: { role: 'assistant' } });
    const loop = produce(stream);
    await until(b, 'answer', (m) => m.text.length > 20, 'some text in the second reader');
    await a.cancel('answer');
    await loop.stopped;

    assert.equal(stream.signal.aborted, true);
    assert.equal((stream.signal.reason as { code?: string }).code, 'cancelled');
    assert.equal(stream.state, 'failed');
    assert.throws(() => stream.append('more'), { code: 'cancelled' });
    await assert.rejects(stream.finish(), { code: 'cancelled' });
    const appended = stream.text;
    for (const r of [a, b]) {
      const m = await until(r, 'answer', cancelled, 'the cancel in each reader');
      assert.deepEqual(
        { text: m.text, done: m.done, failed: m.failed, error: m.error, meta: m.meta },
        { text: appended, done: false, failed: true, error: { code: 'cancelled', message: 'cancelled by a reader' }, meta: { role: 'assistant' } },
      );
    }
    // Nothing after the cancel: the fail is the message's last event.
    const history = await sb.of('/ai').history('ai:stop');
    assert.equal(history.publications.at(-1)?.event, 'token-stream:fail');
  });

  test('refused: a client outside the room (forbidden), the app’s authorize, a finished message (stream_closed), an unknown one, a bad request', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/);
    acceptTokenStreamCancels(sb);
    sb.of('/strict').durable(/^ai:/);
    const asked: [string, string][] = [];
    acceptTokenStreamCancels(sb, {
      namespace: '/strict',
      authorize: (socket, room, id) => {
        asked.push([room, id]);
        return (socket.data as { admin?: boolean }).admin === true;
      },
    });
    const member = reader(client(url), 'ai:r');
    await member.ready;
    const outsider = client(url);

    const stream = startTokenStream(sb, 'ai:r', { id: 'live', idleTimeout: 0 });
    stream.append('still going');
    await until(member, 'live', (m) => m.text === 'still going', 'the text');
    await assert.rejects(outsider.emitWithAck('token-stream:cancel', { room: 'ai:r', id: 'live' }), { code: 'forbidden' });
    await assert.rejects(outsider.emitWithAck('token-stream:cancel', { room: 'ai:r' }), { code: 'bad_request' });
    assert.equal(stream.state, 'streaming', 'a refused cancel leaves the stream alone');
    assert.equal(stream.signal.aborted, false);

    // A member of the room, refused by the namespace's own rule.
    const strictClient = client(url).of('/strict');
    const strict = reader(strictClient, 'ai:r');
    await strict.ready;
    const other = startTokenStream(sb.of('/strict'), 'ai:r', { id: 'guarded', idleTimeout: 0 });
    await assert.rejects(strict.cancel('guarded'), { code: 'forbidden' });
    assert.deepEqual(asked, [['ai:r', 'guarded']]);
    assert.equal(other.state, 'streaming');
    // The same id in another namespace is another message: `/` does not hold `guarded`.
    await assert.rejects(member.cancel('guarded'), { code: 'unknown_stream' });

    stream.append(', done.');
    await stream.finish();
    await assert.rejects(member.cancel('live'), { code: 'stream_closed' });
    await assert.rejects(member.cancel('never-was'), { code: 'unknown_stream' });
    assert.throws(() => member.cancel(''), TypeError);
    const m = await until(member, 'live', (x) => x.done, 'the finish');
    assert.equal(m.text, 'still going, done.');
    await other.finish();

    // Without acceptTokenStreamCancels a namespace has no handler.
    sb.of('/plain').durable(/^ai:/);
    const plain = reader(client(url).of('/plain'), 'ai:r');
    await plain.ready;
    await assert.rejects(plain.cancel('x'), { code: 'no_handler' });
  });

  test('a stream cancelled by its producer, and cancel after a cancel', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/);
    const r = reader(client(url), 'ai:self');
    await r.ready;
    const stream = startTokenStream(sb, 'ai:self', { id: 's' });
    stream.append('enough');
    await stream.cancel('the user closed the tab');
    await assert.rejects(stream.cancel(), { code: 'stream_closed' });
    const m = await until(r, 's', cancelled, 'the cancel');
    assert.deepEqual({ text: m.text, message: m.error?.message }, { text: 'enough', message: 'the user closed the tab' });
  });

  describe('on Redis', () => {
    const keys = useRedisKeys();

    test('a cancel that lands on another node reaches the node that streams the message', async () => {
      const prefix = keys.prefix('token-stream-cancels');
      const one = await server({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
      const two = await server({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
      const stops = [one, two].map(({ sb }) => {
        sb.durable(/^ai:/);
        return acceptTokenStreamCancels(sb);
      });
      const near = reader(client(one.url), 'ai:cluster');
      const far = reader(client(two.url), 'ai:cluster');
      await Promise.all([near.ready, far.ready]);

      const stream = startTokenStream(one.sb, 'ai:cluster', { id: 'on-one' });
      const loop = produce(stream);
      await until(far, 'on-one', (m) => m.text.length > 20, 'text on node two');
      await far.cancel('on-one');
      await loop.stopped;
      assert.equal(stream.signal.aborted, true);
      for (const r of [near, far]) {
        const m = await until(r, 'on-one', cancelled, 'the cancel on both nodes');
        assert.equal(m.text, stream.text);
      }
      // Node two asks again: node one remembers that the message ended.
      await assert.rejects(far.cancel('on-one'), { code: 'stream_closed' });

      // Node two alone cannot reach a stream of node one: it was node one that cancelled.
      const second = startTokenStream(one.sb, 'ai:cluster', { id: 'second', idleTimeout: 0 });
      (stops[0] as () => void)();
      await assert.rejects(far.cancel('second'), { code: 'unknown_stream' });
      assert.equal(second.state, 'streaming');
      await second.finish();
    });

    test('a producer in no Switchboard’s process: the app relays the cancel', async () => {
      const prefix = keys.prefix('token-stream-relay');
      const { sb, url } = await server({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
      sb.durable(/^ai:/);
      const emitter = new Emitter(REDIS_URL, { prefix }).durable(/^ai:/);
      opened.push({ close: () => void emitter.close() });
      const relayed: [string, string][] = [];
      acceptTokenStreamCancels(sb, {
        relay: async (room, id) => {
          relayed.push([room, id]);
          // The app's worker would call stream.cancel(); here the message is failed by id.
          await failTokenStream(emitter, room, id, 'cancelled', 'relayed to the worker');
          return true;
        },
      });
      const r = reader(client(url), 'ai:relay');
      await r.ready;
      // Published as a worker in another process would: this process holds no TokenStream for it.
      await emitter.to('ai:relay').publish('token-stream:start', { id: 'remote' });
      await emitter.to('ai:relay').publish('token-stream:chunk', { id: 'remote', index: 0, text: 'far away' });
      await until(r, 'remote', (m) => m.text === 'far away', 'the remote text');
      await r.cancel('remote');
      assert.deepEqual(relayed, [['ai:relay', 'remote']]);
      const m = await until(r, 'remote', cancelled, 'the relayed cancel');
      assert.equal(m.text, 'far away');
    });
  });
});
