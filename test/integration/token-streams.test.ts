/**
 * Token streams (switchboard/token-streams and its reader) against a real server and the real
 * SDK: messages streamed at once in one room, a reader that joins mid-message, a dropped link
 * (through a TCP proxy) and the SDK's rejoin with `since`, a reload (a new client continuing
 * from the saved position), a position no longer in history (rebuilt from it), failures,
 * and the redis Emitter as the producer.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { Emitter, RedisAdapter } from '../../src/cluster/redis/index.js';
import type { Switchboard } from '../../src/server/index.js';
import { failTokenStream, startTokenStream, type TokenStream } from '../../src/token-streams/index.js';
import { type TokenMessage, type TokenStreamClient, TokenStreamReader, type TokenStreamReaderOptions } from '../../src/token-streams/client/index.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';
import { startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 }, transports: ['websocket'] as ['websocket'] };
const WAIT_MS = 10_000;

/** sessionStorage for Node: what a reloaded page finds again. */
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

/** A reader and everything it told: each message's successive texts, resets, errors. */
class Watched {
  readonly texts = new Map<string, string[]>();
  resets = 0;
  readonly errors: Error[] = [];
  constructor(readonly reader: TokenStreamReader) {
    reader.on('message', (m) => this.record(m));
    reader.on('reset', (all) => {
      this.resets++;
      for (const m of all) this.record(m);
    });
    reader.on('error', (err) => this.errors.push(err));
  }

  private record(m: TokenMessage): void {
    const seen = this.texts.get(m.id) ?? [];
    if (seen.at(-1) !== m.text) seen.push(m.text);
    this.texts.set(m.id, seen);
  }

  /** Resolve once `check` holds for the reader's messages (checked on each of its events). */
  until(check: (messages: TokenMessage[]) => boolean, what: string): Promise<void> {
    if (check(this.reader.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for ${what}; messages: ${JSON.stringify(this.reader.messages)}`));
      }, WAIT_MS);
      const onChange = (): void => {
        if (!check(this.reader.messages)) return;
        off();
        resolve();
      };
      const off = (): void => {
        clearTimeout(timer);
        this.reader.off('message', onChange).off('reset', onChange);
      };
      this.reader.on('message', onChange).on('reset', onChange);
    });
  }

  done(id: string): Promise<TokenMessage> {
    return this.until((all) => all.some((m) => m.id === id && (m.done || m.failed)), `${id} to end`).then(() => this.reader.message(id) as TokenMessage);
  }

  /** Every text the reader showed for `id` extends the one before: nothing repeated, nothing taken back. */
  assertGrewOnly(id: string): void {
    const seen = this.texts.get(id) ?? [];
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i]?.startsWith(seen[i - 1] as string), `${id}: "${seen[i]}" does not continue "${seen[i - 1]}"`);
    }
  }
}

const opened: { close(): void }[] = [];
after(() => {
  for (const thing of opened) thing.close();
});

function client(url: string): SwitchboardClient {
  const c = connect(url, fastReconnect);
  opened.push(c);
  return c;
}

function reader(c: TokenStreamClient, room: string, options?: TokenStreamReaderOptions): Watched {
  const r = new TokenStreamReader(c, room, options);
  opened.push(r);
  return new Watched(r);
}

const words = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}${i} `);

/** Append the words one by one, a macrotask apart (a model's pace, without a clock). */
async function feed(stream: TokenStream, parts: readonly string[]): Promise<void> {
  for (const part of parts) {
    stream.append(part);
    await new Promise((r) => setImmediate(r));
  }
}

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<{ sb: Switchboard; url: string; port: number }> {
  const started = await startServer(options);
  opened.push({ close: () => void started.sb.close() });
  return started;
}

describe('token streams', () => {
  test('two messages streamed at once in one room, appends faster than the network: each reader gets both whole, in order, each token once', async () => {
    const { sb, url } = await server();
    sb.of('/ai').durable(/^ai:/);
    const c = client(url);
    const a = reader(c.of('/ai'), 'ai:1');
    const b = reader(client(url).of('/ai'), 'ai:1');
    await Promise.all([a.reader.ready, b.reader.ready]);

    const one = startTokenStream(sb.of('/ai'), 'ai:1', { id: 'one', meta: { role: 'assistant' } });
    const two = startTokenStream(sb.of('/ai'), 'ai:1', { id: 'two' });
    // All appended in one turn: joined into few chunks, never reordered.
    for (let i = 0; i < 200; i++) {
      one.append(`a${i} `);
      two.append(`b${i} `);
    }
    await feed(one, words(20, 'x'));
    await Promise.all([one.finish(), two.finish()]);
    const expectOne = [...words(200, 'a'), ...words(20, 'x')].join('');
    const expectTwo = words(200, 'b').join('');
    for (const w of [a, b]) {
      const [m1, m2] = [await w.done('one'), await w.done('two')];
      assert.equal(m1.text, expectOne);
      assert.deepEqual(m1.meta, { role: 'assistant' });
      assert.equal(m2.text, expectTwo);
      w.assertGrewOnly('one');
      w.assertGrewOnly('two');
      assert.deepEqual(w.errors, []);
    }
    assert.deepEqual(
      a.reader.messages.map((m) => m.id),
      ['one', 'two'],
    );
  });

  test('a reader that joins mid-message gets the chunks so far, then the live ones; a late joiner gets a finished message whole', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/);
    const stream = startTokenStream(sb, 'ai:mid', { id: 'm' });
    const early = words(30, 'e');
    await feed(stream, early);
    const mid = reader(client(url), 'ai:mid');
    await mid.until((all) => all[0]?.text === early.join(''), 'the chunks so far');
    const late = words(30, 'l');
    await feed(stream, late);
    await stream.finish();
    const m = await mid.done('m');
    assert.equal(m.text, [...early, ...late].join(''));
    mid.assertGrewOnly('m');

    const after = reader(client(url), 'ai:mid');
    await after.reader.ready;
    assert.deepEqual(after.reader.messages, [{ id: 'm', text: [...early, ...late].join(''), chunks: m.chunks, done: true, failed: false, partial: false }]);
  });

  test('a dropped link and a new session: the SDK rejoins with since and the message goes on with nothing lost or repeated', async () => {
    const { sb, port } = await server({ resume: false });
    sb.durable(/^ai:/);
    const proxy = await TcpProxy.start(port);
    opened.push({ close: () => void proxy.close() });
    const c = client(proxy.url());
    const w = reader(c, 'ai:drop');
    await w.reader.ready;
    const recoveries: boolean[] = [];
    c.on('recovery', (info) => void recoveries.push(info.recovered));

    const stream = startTokenStream(sb, 'ai:drop', { id: 'd' });
    const before = words(20, 'b');
    await feed(stream, before);
    await w.until((all) => all[0]?.text === before.join(''), 'the text before the cut');
    proxy.refuse(true);
    proxy.cutAll();
    const during = words(20, 'd');
    await feed(stream, during);
    proxy.refuse(false);
    const afterwards = words(20, 'a');
    await feed(stream, afterwards);
    await stream.finish();
    const m = await w.done('d');
    assert.equal(m.text, [...before, ...during, ...afterwards].join(''));
    w.assertGrewOnly('d');
    assert.deepEqual(recoveries, [true], 'rejoined with since, recovered');
  });

  test('a reload: a new client with the saved position continues mid-answer, nothing repeated, nothing missing, no history read', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/);
    const storage = new MemoryStorage();
    const stream = startTokenStream(sb, 'ai:reload', { id: 'r' });
    const first = client(url);
    const page1 = reader(first, 'ai:reload', { storage });
    const part1 = words(25, 'p');
    await feed(stream, part1);
    await page1.until((all) => all[0]?.text === part1.join(''), 'part one');
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    first.close();
    page1.reader.close();

    const part2 = words(25, 'q');
    await feed(stream, part2);
    const second = client(url);
    let historyReads = 0;
    const history = second.history.bind(second);
    second.history = ((...args: Parameters<typeof history>) => {
      historyReads++;
      return history(...args);
    }) as typeof second.history;
    const page2 = reader(second, 'ai:reload', { storage });
    assert.equal(page2.reader.messages[0]?.text, part1.join(''), 'restored at once from storage');
    await page2.reader.ready;
    assert.equal(page2.reader.messages[0]?.text, [...part1, ...part2].join(''), 'the gap replayed by the join');
    const part3 = words(25, 's');
    await feed(stream, part3);
    await stream.finish();
    const m = await page2.done('r');
    assert.equal(m.text, [...part1, ...part2, ...part3].join(''));
    page2.assertGrewOnly('r');
    assert.equal(historyReads, 0);
  });

  test('a saved position no longer in history: rebuilt from history, the message marked partial until its finish brings it whole', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/, { maxMessages: 10 });
    const storage = new MemoryStorage();
    const stream = startTokenStream(sb, 'ai:trim', { id: 't' });
    const first = client(url);
    const page1 = reader(first, 'ai:trim', { storage });
    await feed(stream, words(3, 'a'));
    await page1.until((all) => all[0]?.text === words(3, 'a').join(''), 'the first words');
    first.close();
    page1.reader.close();

    // 30 more chunks: the room keeps 10 publications, so the saved position is gone.
    await feed(stream, words(30, 'b'));
    const page2 = reader(client(url), 'ai:trim', { storage });
    await page2.reader.ready;
    const rebuilt = page2.reader.message('t');
    assert.equal(rebuilt?.partial, true, 'told that the beginning is missing');
    assert.ok(words(30, 'b').join('').endsWith(rebuilt?.text ?? 'x'), `the kept end of the message: ${rebuilt?.text}`);
    assert.equal(rebuilt?.chunks, 33);
    await feed(stream, words(2, 'c'));
    await stream.finish();
    const m = await page2.done('t');
    assert.equal(m.partial, false);
    assert.equal(m.text, [...words(3, 'a'), ...words(30, 'b'), ...words(2, 'c')].join(''));
  });

  test('after a drop past the history (recovered: false) the reader rebuilds from history instead of leaving a hole', async () => {
    const { sb, port } = await server({ resume: false });
    sb.durable(/^ai:/, { maxMessages: 100 });
    const proxy = await TcpProxy.start(port);
    opened.push({ close: () => void proxy.close() });
    const c = client(proxy.url());
    const w = reader(c, 'ai:gone');
    await w.reader.ready;
    const recoveries: boolean[] = [];
    c.on('recovery', (info) => void recoveries.push(info.recovered));
    const first = startTokenStream(sb, 'ai:gone', { id: 'first' });
    await feed(first, words(5, 'f'));
    await w.until((all) => all[0]?.text === words(5, 'f').join(''), 'the first words');
    proxy.refuse(true);
    proxy.cutAll();
    await feed(first, words(5, 'g'));
    await first.finish();
    // Another message fills the history until the reader's position is trimmed from it (the
    // first message's finish, a few publications later, is still kept).
    const saved = w.reader.position?.offset ?? 0;
    const filler = startTokenStream(sb, 'ai:gone', { id: 'filler' });
    const fillerWords: string[] = [];
    for (let i = 0; ; i++) {
      const word = `z${i} `;
      fillerWords.push(word);
      await feed(filler, [word]);
      const kept = (await sb.history('ai:gone', { limit: 1000 })).publications[0]?.position.offset ?? 0;
      if (kept > saved + 1) break;
    }
    const resets = w.resets;
    proxy.refuse(false);
    await w.until(() => w.resets > resets, 'the rebuild');
    assert.deepEqual(recoveries, [false]);
    assert.equal(w.reader.message('first')?.text, [...words(5, 'f'), ...words(5, 'g')].join(''), 'the finish, still in history, has the whole text');
    assert.equal(w.reader.message('filler')?.partial, false, 'its start is still in history');
    await w.until((all) => all.some((m) => m.id === 'filler' && m.text === fillerWords.join('')), 'the filler so far, from history');
    await filler.finish();
    assert.equal((await w.done('filler')).text, fillerWords.join(''));
  });

  test('fail, append after finish, the idle timeout, a stream to a room that is not durable, and failTokenStream for an abandoned one', async () => {
    const { sb, url } = await server();
    sb.durable(/^ai:/);
    const w = reader(client(url), 'ai:fail');
    await w.reader.ready;

    const failing = startTokenStream(sb, 'ai:fail', { id: 'f' });
    failing.append('half an ');
    await failing.fail('model_error', 'the model gave up');
    const f = await w.done('f');
    assert.deepEqual({ failed: f.failed, error: f.error, text: f.text, done: f.done }, { failed: true, error: { code: 'model_error', message: 'the model gave up' }, text: 'half an ', done: false });
    assert.throws(() => failing.append('more'), { code: 'stream_closed' });

    const finished = startTokenStream(sb, 'ai:fail', { id: 'ok' });
    finished.append('fine');
    await finished.finish();
    assert.throws(() => finished.append('x'), { code: 'stream_closed' });
    await assert.rejects(finished.finish(), { code: 'stream_closed' });
    await assert.rejects(finished.fail(), { code: 'stream_closed' });

    const idle = startTokenStream(sb, 'ai:fail', { id: 'idle', idleTimeout: 30 });
    idle.append('then nothing');
    const i = await w.done('idle');
    assert.deepEqual(i.error?.code, 'idle_timeout');
    assert.equal(i.text, 'then nothing');
    assert.equal(idle.state, 'failed');

    const nowhere = startTokenStream(sb, 'not-durable', { id: 'n' });
    nowhere.append('lost');
    await assert.rejects(nowhere.finish(), (err: Error & { code?: string; cause?: { code?: string } }) => err.code === 'publish_failed' && err.cause?.code === 'bad_request');
    assert.throws(() => nowhere.append('x'), { code: 'stream_closed' });
    await assert.rejects(nowhere.fail(), { code: 'publish_failed' }, 'after a failed publication, finish and fail say why');

    // A producer that crashed mid-message: its successor fails the message by id.
    const crashed = startTokenStream(sb, 'ai:fail', { id: 'crashed', idleTimeout: 0 });
    crashed.append('cut short');
    await w.until((all) => all.some((m) => m.id === 'crashed' && m.text === 'cut short'), 'the crashed stream’s text');
    await failTokenStream(sb, 'ai:fail', 'crashed', 'producer_lost', 'the worker restarted');
    const c = await w.done('crashed');
    assert.deepEqual({ text: c.text, failed: c.failed, code: c.error?.code }, { text: 'cut short', failed: true, code: 'producer_lost' });
    assert.deepEqual(w.errors, []);
  });

  describe('on Redis', () => {
    const keys = useRedisKeys();
    test('a worker with only the Emitter streams; readers on two nodes get the message whole and in order', async () => {
      const prefix = keys.prefix('token-streams');
      const one = await server({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
      const two = await server({ adapter: new RedisAdapter(REDIS_URL, { prefix }) });
      for (const { sb } of [one, two]) sb.durable(/^ai:/);
      const emitter = new Emitter(REDIS_URL, { prefix }).durable(/^ai:/);
      opened.push({ close: () => void emitter.close() });
      const a = reader(client(one.url), 'ai:redis');
      const b = reader(client(two.url), 'ai:redis');
      await Promise.all([a.reader.ready, b.reader.ready]);

      const stream = startTokenStream(emitter, 'ai:redis', { id: 'w', meta: { model: 'fake' } });
      for (let i = 0; i < 100; i++) stream.append(`t${i} `);
      await feed(stream, words(20, 'u'));
      await stream.finish();
      const expected = [...words(100, 't'), ...words(20, 'u')].join('');
      for (const w of [a, b]) {
        const m = await w.done('w');
        assert.equal(m.text, expected);
        assert.deepEqual(m.meta, { model: 'fake' });
        w.assertGrewOnly('w');
      }
      // A late joiner on either node reads it whole from the shared history.
      const late = reader(client(two.url), 'ai:redis');
      await late.reader.ready;
      assert.equal(late.reader.message('w')?.text, expected);
    });
  });
});
