/**
 * Fault injection: SDK subscribers of a durable room, connected through TCP proxies that
 * cut their links at random moments while a publisher streams numbered messages. Whatever
 * the faults, every subscriber's handler must see every number exactly once and in order,
 * unless it was told `recovered: false` — and then only when the gap truly lay beyond the
 * room's history, with nothing from inside the lost gap ever delivered (no partial replay).
 *
 * Alongside, an ordinary (at-most-once) room carries the same numbers: never repeated or
 * reordered, and nothing may go missing inside one session (same id across a reconnect = a
 * resumed session, which must re-send every frame the client did not receive).
 *
 * Run with session resume on (default) and off (pure history recovery); plus deterministic
 * cases: a subscriber kept away for exactly the history's size (recovered) and one more
 * (recovered false, nothing of the gap), and a server restart (new epoch).
 *
 * The random decisions (which link, when, which fault) come from a seeded PRNG; the seed
 * is printed. Replay a failure with FAULT_SEED=<seed> (event-loop timing still varies).
 * No timing assertions: waits are on conditions, with timeouts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test, type TestContext } from 'node:test';
import { connect, type NetworkEnvironment, type RecoveryInfo, type StreamPosition, type SwitchboardClient } from '../../src/client/node.js';
import { type Socket, Switchboard, type SwitchboardOptions } from '../../src/server/index.js';
import WebSocket from 'ws';
import { BareClient } from '../helpers/bare-client.js';
import { deriveSeed, faultSeed, seededRandom, type SeededRandom } from '../helpers/seeded-random.js';
import { eventually, startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const SEED = faultSeed();
const REPLAY = `FAULT_SEED=${SEED} node --import tsx --test test/integration/fault-injection.test.ts`;
const ROOM = 'ticker';
/** An ordinary room: at-most-once across sessions, but a resumed session must not lose or repeat its frames. */
const PLAIN = 'plain';
/** Fast reconnects: the faults come every few tens of milliseconds. */
const RECONNECT = { delay: 10, maxDelay: 100 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Like eventually(), with the failure message built when the wait fails (it describes the state then, not at the start). */
async function until(check: () => boolean, describe: () => string, ms: number): Promise<void> {
  try {
    await eventually(check, 'a condition', ms);
  } catch {
    throw new Error(`timed out after ${ms} ms waiting for ${describe()}`);
  }
}

/** A network the test switches off and on: the SDK's own `offline`/`online` handling closes and reopens its socket. */
class FakeNetwork implements NetworkEnvironment {
  readonly target = new EventTarget();
  online = true;
  isOnline = (): boolean => this.online;

  goOffline(): void {
    if (!this.online) return;
    this.online = false;
    this.target.dispatchEvent(new Event('offline'));
  }

  goOnline(): void {
    if (this.online) return;
    this.online = true;
    this.target.dispatchEvent(new Event('online'));
  }
}

/** What a subscriber's app saw, in order: handler calls and recovery events. */
type Seen = { n: number; position: StreamPosition | undefined } | { recovery: RecoveryInfo };

interface Subscriber {
  name: string;
  proxy: TcpProxy;
  network: FakeNetwork;
  client: SwitchboardClient;
  seen: Seen[];
  /** Highest number the handler got. */
  highest: number;
  /** Events of the ordinary (at-most-once) room, with the session id they arrived in. */
  plain: { n: number; sid: string | undefined }[];
}

async function subscriber(serverPort: number, name: string): Promise<Subscriber> {
  const proxy = await TcpProxy.start(serverPort);
  const network = new FakeNetwork();
  // WebSocket only: the faults are cut at WebSocket frame boundaries; the HTTP transports
  // are faulted in transport-conformance.test.ts and client-fallback.test.ts.
  const client = connect(proxy.url(), { reconnect: RECONNECT, network, transports: ['websocket'] });
  const sub: Subscriber = { name, proxy, network, client, seen: [], highest: 0, plain: [] };
  client.on('p', (n: number) => {
    sub.plain.push({ n, sid: client.id });
  });
  client.on('n', (n: number, meta) => {
    sub.seen.push({ n, position: meta.position });
    sub.highest = Math.max(sub.highest, n);
  });
  client.on('recovery', (info) => {
    sub.seen.push({ recovery: info });
  });
  return sub;
}

async function closeAll(subs: Subscriber[], sb: Switchboard): Promise<void> {
  for (const sub of subs) {
    sub.client.close();
    await sub.proxy.close();
  }
  await sb.close({ deadline: 100 });
}

/** Publish `from`..`to` as event `n`; number k must land at offset k (one publisher, a fresh room). */
async function publishRange(sb: Switchboard, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    const position = await sb.to(ROOM).publish('n', n);
    assert.equal(position.offset, n, 'publication n sits at offset n');
  }
}

/**
 * Check the delivery guarantee on what one subscriber saw, numbers 1..`last` published at
 * offsets 1..`last`. Returns every violation found (empty: all good).
 *
 * - every number once, in order, with position {epoch, offset: n};
 * - `recovered: true` only after every missed number was replayed (position = last seen);
 * - `recovered: false` only when the gap was beyond history: with count-bounded history,
 *   after a join at head H the oldest kept offset is H - maxMessages + 1, and a gap after L
 *   is recoverable iff L >= H - maxMessages;
 * - after `recovered: false` nothing from the lost gap (L, H] is delivered, live resumes at H + 1.
 */
function deliveryProblems(seen: readonly Seen[], o: { last: number; maxMessages: number; epoch: string }): string[] {
  const problems: string[] = [];
  let expected = 1;
  const lost: [number, number][] = [];
  for (const entry of seen) {
    if ('n' in entry) {
      const { n, position } = entry;
      if (position?.epoch !== o.epoch || position.offset !== n) problems.push(`number ${n} carried position ${JSON.stringify(position)}, expected offset ${n} of epoch ${o.epoch}`);
      const inLostGap = lost.find(([from, to]) => n >= from && n <= to);
      if (inLostGap) problems.push(`partial replay: ${n} delivered although recovered:false declared ${inLostGap[0]}..${inLostGap[1]} lost`);
      else if (n > expected) problems.push(`gap: ${expected}..${n - 1} never delivered (next was ${n})`);
      else if (n < expected) problems.push(`duplicate or out of order: ${n} after ${expected - 1}`);
      expected = Math.max(expected, n + 1);
      continue;
    }
    const { recovered, position } = entry.recovery;
    const lastSeen = expected - 1;
    if (position.epoch !== o.epoch) problems.push(`recovery reported epoch ${position.epoch}, the stream's is ${o.epoch}`);
    if (recovered) {
      if (position.offset !== lastSeen) problems.push(`recovered:true at position ${position.offset}, but the handler had seen up to ${lastSeen}`);
      continue;
    }
    if (lastSeen >= position.offset - o.maxMessages) {
      problems.push(
        `recovered:false although the gap after ${lastSeen} was still in history (head ${position.offset}, oldest kept ${Math.max(1, position.offset - o.maxMessages + 1)})`,
      );
    }
    if (position.offset > lastSeen) lost.push([lastSeen + 1, position.offset]);
    expected = Math.max(expected, position.offset + 1);
  }
  if (expected - 1 !== o.last) problems.push(`the handler ended at ${expected - 1}, expected ${o.last}`);
  return problems;
}

/**
 * Ordinary-room events are at-most-once: a new session may miss some. But never a repeat or
 * a reordering, and within one session — the same id before and after a reconnect means the
 * session was resumed — nothing may be missing: a resume re-sends every frame the client did
 * not receive.
 */
function sessionProblems(plain: readonly { n: number; sid: string | undefined }[]): string[] {
  const problems: string[] = [];
  let previous: { n: number; sid: string | undefined } | undefined;
  for (const event of plain) {
    if (previous) {
      if (event.n <= previous.n) problems.push(`ordinary event ${event.n} after ${previous.n}: repeated or out of order`);
      else if (event.sid !== undefined && event.sid === previous.sid && event.n !== previous.n + 1) {
        problems.push(`ordinary events ${previous.n + 1}..${event.n - 1} lost inside session ${event.sid} (resumed without them)`);
      }
    }
    previous = event;
  }
  return problems;
}

function summary(seen: readonly Seen[]): string {
  const recoveries = seen.filter((s): s is { recovery: RecoveryInfo } => 'recovery' in s).map((s) => `${s.recovery.recovered}@${s.recovery.position.offset}`);
  return `${seen.filter((s) => 'n' in s).length} handler calls, recoveries [${recoveries.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------

const FAULT_KINDS = ['server-cut', 'client-close', 'mid-frame', 'half-open'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

interface FaultStats {
  tried: Record<FaultKind, number>;
  /** Faults that actually hit a link (a mid-frame cut needs data to flow before it fires). */
  hit: Record<FaultKind, number>;
}

/**
 * Until `done()`: every few ms, pick a subscriber with a live link and break it one of four ways:
 * - server-cut: the proxy destroys both sockets (server's first, or the client's), FIN or RST:
 *   both ends see 1006, as on a network loss;
 * - client-close: the client's network goes offline, the SDK closes its socket itself, and
 *   the network comes back a moment later;
 * - mid-frame: the client gets part of a WebSocket frame, then both sockets are destroyed;
 * - half-open: the client's side is destroyed but the server's stays open (what it sends is
 *   swallowed) for a while, so the server only learns later.
 */
async function injectFaults(subs: Subscriber[], rnd: SeededRandom, done: () => boolean, stats: FaultStats, timers: Set<NodeJS.Timeout>): Promise<void> {
  const midFrameCuts: Promise<unknown>[] = [];
  while (!done()) {
    await sleep(rnd.int(5, 40));
    if (done()) break;
    const sub = rnd.pick(subs);
    const kind = rnd.pick(FAULT_KINDS);
    const link = sub.proxy.links.find((l) => l.upgraded);
    if (!link || !sub.network.online) continue;
    stats.tried[kind]++;
    switch (kind) {
      case 'server-cut':
        sub.proxy.cut(link, { first: rnd.chance(0.7) ? 'server' : 'client', reset: rnd.chance(0.5) });
        stats.hit[kind]++;
        break;
      case 'client-close': {
        sub.network.goOffline();
        stats.hit[kind]++;
        const timer = setTimeout(() => {
          timers.delete(timer);
          sub.network.goOnline();
        }, rnd.int(0, 60));
        timers.add(timer);
        break;
      }
      case 'mid-frame':
        midFrameCuts.push(
          sub.proxy
            .cutMidFrame(link, (max) => rnd.int(0, max - 1))
            .then((cut) => {
              if (!cut) return;
              assert.ok(cut.partialFrameBytes > 0 && cut.forwarded <= cut.chunk, `a mid-frame cut delivers part of a frame: ${JSON.stringify(cut)}`);
              stats.hit[kind]++;
            }),
        );
        break;
      case 'half-open':
        sub.proxy.halfOpen(link, rnd.int(20, 300));
        stats.hit[kind]++;
        break;
    }
  }
  for (const sub of subs) sub.proxy.disarm();
  await Promise.all(midFrameCuts);
}

/** Publish 1..total in batches of random size with short random pauses, so faults land between and inside batches. */
async function stream(sb: Switchboard, total: number, rnd: SeededRandom): Promise<void> {
  let n = 1;
  while (n <= total) {
    const batch: Promise<StreamPosition>[] = [];
    const first = n;
    for (let k = rnd.int(1, 30); k > 0 && n <= total; k--, n++) {
      batch.push(sb.to(ROOM).publish('n', n));
      sb.to(PLAIN).emit('p', n);
    }
    const positions = await Promise.all(batch);
    positions.forEach((position, i) => assert.equal(position.offset, first + i, 'publication n sits at offset n'));
    if (rnd.chance(0.2)) await new Promise<void>((resolve) => setImmediate(resolve));
    else await sleep(rnd.int(5, 35));
  }
}

async function streamWithFaults(t: TestContext, label: string, serverOptions: SwitchboardOptions): Promise<void> {
  const rnd = seededRandom(deriveSeed(SEED, label));
  t.diagnostic(`seed ${SEED} (${label}: ${rnd.seed}); replay with ${REPLAY}`);
  const TOTAL = 2000;
  const HISTORY = 1000;
  const SUBSCRIBERS = 5;
  const { sb } = await startServer(serverOptions);
  sb.durable(ROOM, { maxMessages: HISTORY });
  const serverErrors: unknown[] = [];
  sb.on('error', (err) => serverErrors.push(err));
  let sessions = 0;
  sb.on('connection', () => sessions++);
  const subs = await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, i) => subscriber(sb.port, `sub${i + 1}`)));
  const timers = new Set<NodeJS.Timeout>();
  const started = Date.now();
  try {
    const replies = await Promise.all(subs.map((s) => s.client.join(ROOM)));
    await Promise.all(subs.map((s) => s.client.join(PLAIN)));
    const epoch = replies[0]?.position?.epoch as string;
    for (const reply of replies) assert.deepEqual(reply.position, { epoch, offset: 0 }, 'joined an empty stream');

    const stats: FaultStats = {
      tried: { 'server-cut': 0, 'client-close': 0, 'mid-frame': 0, 'half-open': 0 },
      hit: { 'server-cut': 0, 'client-close': 0, 'mid-frame': 0, 'half-open': 0 },
    };
    let publishing = true;
    const faults = injectFaults(subs, rnd, () => !publishing, stats, timers);
    try {
      await stream(sb, TOTAL, rnd);
    } finally {
      publishing = false;
      await faults;
    }
    // Heal the network, then one last publication: links are ordered, so once every handler
    // has it, nothing older can still be on its way.
    for (const timer of timers) clearTimeout(timer);
    for (const sub of subs) {
      sub.network.goOnline();
      sub.proxy.release();
    }
    const last = TOTAL + 1;
    await publishRange(sb, last, last);
    sb.to(PLAIN).emit('p', last);
    await until(
      () => subs.every((s) => s.highest >= last),
      () =>
        `every subscriber to reach ${last} (seed ${SEED}):\n  ${subs
          .map((s) => `${s.name} at ${s.highest}, ${s.client.state}; ${deliveryProblems(s.seen, { last, maxMessages: HISTORY, epoch }).slice(0, 5).join('; ')}`)
          .join('\n  ')}`,
      20_000,
    );

    const recoveries = subs.flatMap((sub) => sub.seen.flatMap((e) => ('recovery' in e ? [e.recovery.recovered] : [])));
    t.diagnostic(
      `${label}: ${Date.now() - started} ms; faults ${JSON.stringify(stats.hit)}; links per subscriber ${subs.map((s) => s.proxy.linkCount).join('/')}; ` +
        `${sessions} server sessions for ${subs.reduce((n, s) => n + s.proxy.linkCount, 0)} links; ` +
        `recovery events: ${recoveries.filter((r) => r).length} recovered, ${recoveries.filter((r) => !r).length} not`,
    );

    await t.test('durable room: every number once, in order; recovered:false only past history, never a partial replay', () => {
      for (const sub of subs) {
        const problems = deliveryProblems(sub.seen, { last, maxMessages: HISTORY, epoch });
        assert.deepEqual(problems, [], `${sub.name} (${summary(sub.seen)}; seed ${SEED}):\n  ${problems.slice(0, 10).join('\n  ')}`);
        assert.deepEqual(sub.client.position(ROOM), { epoch, offset: last }, `${sub.name} tracks the head position`);
      }
    });
    await t.test('ordinary room: never repeated or reordered, nothing lost inside a resumed session', () => {
      for (const sub of subs) {
        const problems = sessionProblems(sub.plain);
        assert.deepEqual(problems, [], `${sub.name} (seed ${SEED}):\n  ${problems.slice(0, 10).join('\n  ')}`);
      }
    });
    await t.test('every kind of fault hit, every subscriber was cut, the server reported no errors', () => {
      for (const kind of FAULT_KINDS) assert.ok(stats.hit[kind] > 0, `no ${kind} fault happened (seed ${SEED}): ${JSON.stringify(stats)}`);
      for (const sub of subs) assert.ok(sub.proxy.linkCount >= 3, `${sub.name} was cut only ${sub.proxy.linkCount - 1} times (seed ${SEED})`);
      assert.deepEqual(serverErrors, [], 'no errors on the server');
    });
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await closeAll(subs, sb);
  }
}

// ---------------------------------------------------------------------------------------

/** Keep a subscriber away: refuse its new connections and cut its live link, until the server has noticed. */
async function takeOffline(sb: Switchboard, sub: Subscriber): Promise<void> {
  sub.proxy.refuse(true);
  sub.proxy.cutAll();
  await eventually(() => !sub.client.connected && sb.connectionCount === 0, `${sub.name} to be offline and the server to notice`);
}

/**
 * History of 20; a subscriber is kept offline first for exactly 20 publications (the whole gap
 * is still in history: it must be recovered), then for 21 (one is gone: recovered false, and
 * none of the 21 may reach the handler). `strict`: the server cannot keep the gap in a resumed
 * session either, so the outcome is fully determined; otherwise a session resume that delivers
 * everything is fine too, but a partial replay or a needless recovered:false is not.
 */
async function offlineBeyondHistory(t: TestContext, serverOptions: SwitchboardOptions, strict: boolean): Promise<void> {
  const HISTORY = 20;
  const { sb } = await startServer(serverOptions);
  sb.durable(ROOM, { maxMessages: HISTORY });
  const sub = await subscriber(sb.port, 'away');
  try {
    const reply = await sub.client.join(ROOM);
    const epoch = reply.position?.epoch as string;
    await publishRange(sb, 1, 10);
    const state = (): string => `${sub.client.state}; ${summary(sub.seen)}; seen ${numbersSeen(sub.seen)}`;
    await until(() => sub.highest === 10, () => `the first ten (${state()})`, 3000);

    /** Back online until the gap is delivered or declared lost (checked below either way). */
    const comeBack = async (upTo: number): Promise<void> => {
      const before = sub.seen.length;
      sub.proxy.refuse(false);
      await until(
        () => sub.highest >= upTo || sub.seen.slice(before).some((s) => 'recovery' in s && !s.recovery.recovered),
        () => `the rejoin after missing up to ${upTo} (${state()})`,
        5000,
      );
    };

    // Away for exactly as many publications as history keeps: still recoverable.
    await takeOffline(sb, sub);
    await publishRange(sb, 11, 10 + HISTORY);
    await comeBack(30);

    // Away for one more than history keeps.
    await takeOffline(sb, sub);
    await publishRange(sb, 31, 31 + HISTORY);
    await comeBack(51);
    await until(() => sub.client.connected, () => `the reconnect (${state()})`, 5000);
    await publishRange(sb, 52, 52);
    await until(() => sub.highest === 52, () => `the live publication after the rejoin (${state()})`, 5000);

    const problems = deliveryProblems(sub.seen, { last: 52, maxMessages: HISTORY, epoch });
    assert.deepEqual(problems, [], `${summary(sub.seen)}:\n  ${problems.join('\n  ')}`);
    const numbers = sub.seen.flatMap((s) => ('n' in s ? [s.n] : []));
    const recoveries = sub.seen.flatMap((s) => ('recovery' in s ? [s.recovery] : []));
    if (strict) {
      assert.deepEqual(
        recoveries,
        [
          { room: ROOM, recovered: true, position: { epoch, offset: 30 } },
          { room: ROOM, recovered: false, position: { epoch, offset: 51 } },
        ],
        'recovered after 20 missed, not after 21',
      );
      assert.deepEqual(numbers, [...range(1, 30), 52], 'the gap of 20 replayed; nothing of the lost 31..51; then live');
    } else {
      const lostGap = recoveries.some((r) => !r.recovered);
      assert.deepEqual(numbers, lostGap ? [...range(1, 30), 52] : range(1, 52), 'either everything (resumed) or nothing of the lost gap');
    }
    assert.deepEqual(sub.client.position(ROOM), { epoch, offset: 52 });
    t.diagnostic(`${summary(sub.seen)}; links ${sub.proxy.linkCount}, refused attempts ${sub.proxy.refusedCount}`);
  } finally {
    await closeAll([sub], sb);
  }
}

/** The numbers a handler got, compressed into runs: "1-30, 52". */
function numbersSeen(seen: readonly Seen[]): string {
  const runs: [number, number][] = [];
  for (const s of seen) {
    if (!('n' in s)) continue;
    const lastRun = runs[runs.length - 1];
    if (lastRun && s.n === lastRun[1] + 1) lastRun[1] = s.n;
    else runs.push([s.n, s.n]);
  }
  return runs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ') || 'nothing';
}

/**
 * The server process restarts (in-memory history lost, new epoch) while the subscriber is away
 * and the new process publishes before it comes back: recovered false with the new epoch, and
 * nothing of the new stream's earlier offsets is mistaken for the continuation of the old one.
 */
async function serverRestart(t: TestContext, serverOptions: SwitchboardOptions): Promise<void> {
  const first = await startServer(serverOptions);
  first.sb.durable(ROOM);
  const port = first.port;
  const sub = await subscriber(port, 'restart');
  let second: Switchboard | undefined;
  try {
    const reply = await sub.client.join(ROOM);
    const oldEpoch = reply.position?.epoch as string;
    await publishRange(first.sb, 1, 10);
    const state = (): string => `${sub.client.state}; ${summary(sub.seen)}; seen ${numbersSeen(sub.seen)}`;
    await until(() => sub.highest === 10, () => `the first ten (${state()})`, 3000);
    sub.proxy.refuse(true);
    await first.sb.close({ deadline: 100 });
    await until(() => !sub.client.connected, () => `the subscriber to lose the old process (${state()})`, 3000);

    second = new Switchboard(port, serverOptions);
    await second.ready();
    second.durable(ROOM);
    for (let n = 1; n <= 5; n++) await second.to(ROOM).publish('n', 100 + n); // offsets 1..5 of the new epoch
    const newEpoch = (await second.history(ROOM)).position.epoch;
    assert.notEqual(newEpoch, oldEpoch, 'a new process starts a new epoch');
    sub.proxy.refuse(false);
    await until(() => sub.seen.some((e) => 'recovery' in e), () => `the rejoin on the new process (${state()})`, 5000);
    await until(() => sub.client.connected, () => `the reconnect (${state()})`, 5000);
    await second.to(ROOM).publish('n', 106);
    await until(() => sub.highest === 106, () => `the first live publication of the new process (${state()})`, 5000);

    const recoveries = sub.seen.flatMap((e) => ('recovery' in e ? [e.recovery] : []));
    assert.deepEqual(recoveries, [{ room: ROOM, recovered: false, position: { epoch: newEpoch, offset: 5 } }], 'recovered false, at the new stream\'s head');
    const delivered = sub.seen.flatMap((e) => ('n' in e ? [[e.n, e.position?.epoch === oldEpoch ? 'old' : e.position?.epoch === newEpoch ? 'new' : e.position?.epoch, e.position?.offset]] : []));
    assert.deepEqual(
      delivered,
      [...range(1, 10).map((n) => [n, 'old', n]), [106, 'new', 6]],
      'the old stream, then the new one from its head: nothing of 101..105 arrives as if it continued the old stream',
    );
    assert.deepEqual(sub.client.position(ROOM), { epoch: newEpoch, offset: 6 });
    t.diagnostic(`${summary(sub.seen)}; links ${sub.proxy.linkCount}`);
  } finally {
    sub.client.close();
    await sub.proxy.close();
    await first.sb.close({ deadline: 100 });
    await second?.close({ deadline: 100 });
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// ---------------------------------------------------------------------------------------

describe('fault injection', () => {
  test('the proxy cuts links as the tests assume: 1006 on both ends, mid-frame, half-open, refusal', async (t) => {
    t.diagnostic(`seed ${SEED}; replay with ${REPLAY}`);
    const rnd = seededRandom(deriveSeed(SEED, 'proxy'));
    const { sb } = await startServer({ resume: false });
    sb.durable(ROOM);
    const reasons: string[] = [];
    sb.on('connection', (socket: Socket) => socket.on('disconnect', (reason) => reasons.push(reason)));
    const proxy = await TcpProxy.start(sb.port);
    try {
      // Mid-frame: a 100 KB publication is cut inside its frame; the client never sees it.
      const a = await BareClient.open(proxy.url());
      await a.hello();
      a.send({ type: 'join', ref: 1, room: ROOM });
      await a.next({ ref: 1 });
      const [link] = proxy.links;
      assert.ok(link?.upgraded);
      const framesBefore = link.framesToClient;
      const cutting = proxy.cutMidFrame(link, (max) => rnd.int(0, max - 1));
      await sb.to(ROOM).publish('big', 'x'.repeat(100_000));
      const cut = await cutting;
      assert.ok(cut && cut.partialFrameBytes > 0, `cut inside a frame: ${JSON.stringify(cut)}`);
      assert.equal(link.framesToClient, framesBefore, 'the big frame never completed');
      assert.equal((await a.closed).code, 1006, 'the client saw the link drop');
      assert.equal(a.frames.filter((f) => f.type === 'event').length, 0, 'no partial frame was taken for a frame');
      await eventually(() => reasons.length === 1, 'the server to notice');
      assert.deepEqual(reasons, ['transport_closed'], 'the server saw a drop (1006), not a close');

      // Cut every link: both ends see an abnormal closure.
      const b = await BareClient.open(proxy.url());
      await b.hello();
      assert.equal(proxy.cutAll({ reset: true }), 1);
      assert.equal((await b.closed).code, 1006);
      await eventually(() => reasons.length === 2, 'the server to notice');
      assert.deepEqual(reasons, ['transport_closed', 'transport_closed']);

      // Half-open: the client is gone, the server only learns when the held side is released.
      const c = await BareClient.open(proxy.url());
      await c.hello();
      c.send({ type: 'join', ref: 1, room: ROOM });
      await c.next({ ref: 1 });
      const [held] = proxy.links;
      assert.ok(held);
      proxy.halfOpen(held, 60_000);
      assert.equal((await c.closed).code, 1006);
      await sb.to(ROOM).publish('into-the-void', 1);
      assert.equal(sb.connectionCount, 1, 'the server still thinks the client is there');
      proxy.release();
      await eventually(() => sb.connectionCount === 0 && reasons.length === 3, 'the server to notice the released link');

      // Refusal: new connections fail while refusing.
      proxy.refuse(true);
      const refused = new WebSocket(proxy.url(), 'switchboard.v1');
      const [error] = (await once(refused, 'error').catch((err: unknown) => [err])) as [Error];
      assert.match(error.message, /socket hang up|ECONNRESET/);
      assert.equal(proxy.refusedCount, 1);
      proxy.refuse(false);
      const d = await BareClient.open(proxy.url());
      await d.hello();
      assert.equal(proxy.linkCount, 4, 'four links went through');
      d.close();
      await d.closed;
    } finally {
      await proxy.close();
      await sb.close({ deadline: 100 });
    }
  });

  test('streaming under random faults, session resume on (default)', async (t) => {
    await streamWithFaults(t, 'resume-on', {});
  });

  test('streaming under random faults, resume: false (pure history recovery)', async (t) => {
    await streamWithFaults(t, 'resume-off', { resume: false });
  });

  test('offline beyond a small history, resume: false: recovered false, never a partial replay', async (t) => {
    await offlineBeyondHistory(t, { resume: false }, true);
  });

  test('offline beyond a small history, a resume log too small for the gap: recovered false, never a partial replay', async (t) => {
    // A log of 1 byte drops every broadcast at once: the waiting session ends and the client rejoins.
    await offlineBeyondHistory(t, { resume: { maxLogBytes: 1 } }, true);
  });

  test('offline beyond a small history, default resume: everything or recovered false, never a partial replay', async (t) => {
    await offlineBeyondHistory(t, {}, false);
  });

  test('server restart (history lost, new epoch) while a subscriber is away: recovered false from the new head', async (t) => {
    await serverRestart(t, {});
  });
});
