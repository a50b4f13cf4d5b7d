import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from '../../src/client/node.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frames per flooding connection, and the bytes of padding in its events. */
const FLOOD = 20_000;
const PAD = 'x'.repeat(2000);

/**
 * The flood: requests, fire-and-forget events, joins, leaves, history reads, a `hello`
 * again and garbage, encoded once (as a sender in a loop would) and sent as fast as `ws` can.
 */
const FLOOD_FRAMES: Buffer[] = [
  { type: 'event', ref: 10, event: 'echo', data: PAD },
  { type: 'event', event: 'note', data: PAD },
  { type: 'join', ref: 11, room: 'flood' },
  { type: 'leave', ref: 12, room: 'flood' },
  { type: 'history', ref: 13, room: 'feed' },
  { type: 'event', ref: 14, event: 'pub', seq: 1, data: PAD },
  { type: 'hello', v: 1 },
].map((f) => Buffer.from(JSON.stringify(f)));
FLOOD_FRAMES.push(Buffer.from('{not json'));

function flood(c: BareClient): void {
  for (let i = 0; i < FLOOD; i++) c.ws.send(FLOOD_FRAMES[i % FLOOD_FRAMES.length] as Buffer, { binary: false });
}

test('a message flood from one client: it gets rate_limited and is closed with 1008, while a well-behaved client is served', { timeout: 30_000 }, async (t) => {
  // Default limits: 100 frames/s, burst 200.
  const { sb, url } = await startServer();
  sb.durable('feed');
  // A slow join keeps the flooder's session busy: frames that arrive meanwhile would queue.
  sb.sockets.authorizeJoin(async (_socket, room) => {
    if (room === 'slow') await sleep(100);
    return true;
  });
  let processed = 0;
  const reasons = new Map<string, string>();
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => {
      processed++;
      return data;
    });
    socket.on('note', () => {
      processed++;
    });
    socket.on('pub', () => {
      processed++;
      return 'ok';
    });
    socket.on('say', (n: number) => {
      sb.to('lobby').emit('said', n);
      return n;
    });
    socket.on('disconnect', (reason) => reasons.set(socket.id, reason));
  });
  const serverErrors: unknown[] = [];
  sb.on('error', (err) => serverErrors.push(err));

  // The well-behaved client: a request every 10 ms (well below the rate), each answered and broadcast back.
  const good = connect(url, { reconnect: { delay: 10, maxDelay: 50 } });
  const goodProblems: unknown[] = [];
  good.on('error', (err) => goodProblems.push(err));
  good.on('disconnect', (reason) => goodProblems.push(`disconnect ${reason}`));
  const heard: number[] = [];
  good.on('said', (n: number) => {
    heard.push(n);
  });
  await good.join('lobby');
  let sent = 0;
  let running = true;
  const goodLoop = (async () => {
    while (running) {
      sent++;
      assert.equal(await good.emitWithAck('say', sent), sent);
      await sleep(10);
    }
  })();

  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 1);
  const started = Date.now();
  try {
    // 1. A flooder that reads what it gets: it sees rate_limited answers, then the close.
    const reader = await BareClient.open(url);
    const readerId = (await reader.hello()).sid as string;
    reader.send({ type: 'join', ref: 1, room: 'slow' });
    flood(reader);
    const closed = await reader.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'rate_limited');
    const codes = new Set(reader.frames.map((f) => (f.type === 'reply' ? (f.error as { code?: string } | undefined)?.code : f.code)).filter(Boolean));
    assert.ok(codes.has('rate_limited'), `the flooder was told: ${[...codes]}`);
    assert.ok(!codes.has('overloaded'), 'frames over the rate were not queued behind the pending join');
    const last = reader.frames.at(-1);
    assert.deepEqual([last?.type, last?.code], ['error', 'rate_limited'], 'an error frame says why before the close');

    // 2. A flooder that does not read: it never answers the close, and is cut off.
    const deaf = await BareClient.open(url);
    const deafId = (await deaf.hello()).sid as string;
    (deaf.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    flood(deaf);
    await eventually(() => sb.connectionCount === 1 && sb.sessionCount === 1, 'only the well-behaved connection and session to remain', 5000);
    deaf.ws.terminate();

    assert.equal(reasons.get(readerId), 'rate_limited');
    assert.equal(reasons.get(deafId), 'rate_limited');
    const seconds = (Date.now() - started) / 1000;
    assert.ok(processed <= 2 * 200 + seconds * 100 * 2, `frames over the rate were not processed: ${processed} handled in ${seconds} s`);
  } finally {
    clearInterval(sampler);
  }
  // The flood was 2 × 20000 frames, ~80 MB of text: none of it was kept.
  const flooded = 2 * FLOOD * 2000;
  assert.ok(peak - baseline < flooded / 2, `server heap grew by ${((peak - baseline) / 1e6).toFixed(1)} MB during a ${(flooded / 1e6).toFixed(0)} MB flood`);
  gc();
  const after = process.memoryUsage().heapUsed;
  t.diagnostic(`${processed} flood frames handled; heap +${((peak - baseline) / 1e6).toFixed(1)} MB at peak, +${((after - baseline) / 1e6).toFixed(1)} MB after; ${Date.now() - started} ms`);
  assert.ok(after - baseline < 10e6, `heap after the flood: +${((after - baseline) / 1e6).toFixed(1)} MB`);

  // The well-behaved client went on throughout, without a single error.
  const before = sent;
  await eventually(() => sent > before + 5, 'more requests after the flood');
  running = false;
  await goodLoop;
  await eventually(() => heard.length === sent, 'every broadcast to arrive');
  assert.deepEqual(heard, Array.from({ length: sent }, (_, i) => i + 1));
  assert.deepEqual(goodProblems, []);
  assert.equal(good.connected, true);
  assert.deepEqual(serverErrors, []);
  good.close();
  await eventually(() => sb.connectionCount === 0 && sb.sessionCount === 0, 'every connection to be gone');
  await sb.close();
});

test('a flood of free frames (acks, pongs, replies nobody asked for) is rate limited and closed like any flood', { timeout: 30_000 }, async () => {
  // The finding: ~150k acks per second were never cut off and stalled the event loop for bystanders.
  const { sb, url } = await startServer();
  sb.on('connection', (socket) => {
    socket.on('say', (n: number) => n);
  });
  try {
    const flooder = await BareClient.open(url);
    await flooder.hello();
    const bystander = await BareClient.open(url);
    await bystander.hello();
    const ack = Buffer.from(JSON.stringify({ type: 'ack', received: 0 }));
    const pong = Buffer.from(JSON.stringify({ type: 'pong' }));
    const reply = Buffer.from(JSON.stringify({ type: 'reply', ref: 999, data: null }));
    const kinds = [ack, pong, reply];
    for (let i = 0; i < 20_000; i++) flooder.ws.send(kinds[i % 3] as Buffer, { binary: false });
    const closed = await flooder.closed;
    assert.equal(closed.code, 1008);
    const error = await flooder.next({ type: 'error', code: 'rate_limited' });
    assert.match(String(error.message), /rate limit/);
    bystander.send({ type: 'event', event: 'say', ref: 1, data: 7 });
    assert.equal((await bystander.next({ ref: 1 })).data, 7, 'the bystander is served');
    bystander.close();
  } finally {
    await sb.close();
  }
});
