/**
 * A fuzz run: a live Switchboard with a few handlers of each kind, and many raw WebSocket
 * connections at once throwing FrameFuzzer messages at it. Checks, per docs/PROTOCOL.md
 * "Invalid input" and docs/ERRORS.md:
 *  - the process survives (no uncaught exception or unhandled rejection) and the server
 *    reports no error of its own (only the handler that fails on purpose);
 *  - every error frame, error reply and close code the server sends is documented;
 *  - every message that must be answered is answered, with the expected code, before the
 *    answer to the batch's closing `leave` (a fence) — no silent drops, no hangs;
 *  - every message that must close the connection closes it with the expected code;
 *  - at the end, connections, sessions, sockets and rooms all return to zero (and no
 *    resume token or running request is left), and a well-behaved client is served.
 * Each worker draws from its own stream of the seed, so the seed fixes every decision the
 * generator makes; what the server does meanwhile (which of its requests are waiting,
 * which resume tokens exist) depends on timing and can differ between replays.
 * Used by test/integration/fuzz.test.ts and scripts/fuzz.ts.
 */
import { CLOSE_CODES } from '../../src/protocol/close-code-table.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ReplyError, type Namespace, type Switchboard } from '../../src/server/index.js';
import type { StandardSchemaV1 } from '../../src/server/standard-schema.js';
import { FrameFuzzer, type ConnectionView, type FuzzMessage, type FuzzTarget, type HandshakeOutcome } from './frame-fuzzer.js';
import { BareClient } from './bare-client.js';
import { RawWebSocket, type RawClose } from './raw-websocket.js';
import { deriveSeed, seededRandom, type SeededRandom } from './seeded-random.js';
import { startServer } from './server.js';
import { collectFailures } from './fuzz-failures.js';

export interface FuzzRunOptions {
  seed: number;
  /** Messages to send in all (fences and the hellos of connections not counted). */
  frames: number;
  /** Connections open at a time. Default 32. */
  concurrency?: number;
}

export interface FuzzReport {
  seed: number;
  frames: number;
  connections: number;
  /** Answers checked for code and presence. */
  answers: number;
  /** Messages sent, by category. */
  labels: Record<string, number>;
  /** How connections ended, by close code ("none": the TCP connection ended without a close frame). */
  closes: Record<string, number>;
  failures: string[];
  ms: number;
}

/** Big enough for 100 000 levels of nested arrays to reach JSON.parse. */
export const FUZZ_MAX_MESSAGE_BYTES = 256 * 1024;
const TARGET: FuzzTarget = {
  maxMessageBytes: FUZZ_MAX_MESSAGE_BYTES,
  events: ['echo', 'slow', 'boom', 'refuse', 'publish', 'ask', 'fire', 'typed', 'typedAsync', 'guarded'],
};
const DOCUMENTED_ERRORS: ReadonlySet<string> = new Set(Object.values(ErrorCode));
/** 1005 and 1006 are never sent (they are reported locally); the others may be. */
const DOCUMENTED_CLOSES: ReadonlySet<number> = new Set(CLOSE_CODES.map((c) => c.code).filter((c) => c !== 1005 && c !== 1006));
/** Closes another connection can cause: a resume with this session's token (4004), or one that could not resume it (1000). */
const CLOSES_FROM_ELSEWHERE: ReadonlySet<number | undefined> = new Set([4004, 1000]);
const WAIT_MS = 10_000;
const FENCE_BASE = 2 ** 52;

type Frame = Record<string, unknown>;

class DeliberateFailure extends Error {}
const REFUSED = 'refused on purpose';

export async function runFuzz(options: FuzzRunOptions): Promise<FuzzReport> {
  const started = Date.now();
  const { failures, fail, unwatch } = collectFailures();

  const { sb, port } = await startFuzzTarget(fail);
  const stats = { connections: 0, answers: 0, labels: new Map<string, number>(), closes: new Map<string, number>() };
  const tokens: string[] = [];
  const concurrency = options.concurrency ?? 32;
  try {
    const workers = Array.from({ length: concurrency }, (_, i) => {
      const share = Math.floor(options.frames / concurrency) + (i < options.frames % concurrency ? 1 : 0);
      const rng = seededRandom(deriveSeed(options.seed, `worker ${i}`));
      return new Worker(i, rng, port, share, tokens, stats, fail).run();
    });
    await Promise.all(workers);
    await untilIdle(sb, fail);
    await stillServes(port, fail);
  } finally {
    await sb.close({ deadline: 1000 });
    unwatch();
  }
  return {
    seed: options.seed,
    frames: options.frames,
    connections: stats.connections,
    answers: stats.answers,
    labels: Object.fromEntries([...stats.labels].sort((a, b) => b[1] - a[1])),
    closes: Object.fromEntries([...stats.closes].sort((a, b) => b[1] - a[1])),
    failures,
    ms: Date.now() - started,
  };
}

/** One line per category and close code, for logs. */
export function describeReport(report: FuzzReport): string[] {
  const counts = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');
  // Categories without their variants ("first:" before the hello, "+fragmented").
  const kinds: Record<string, number> = {};
  let fragmented = 0;
  let first = 0;
  for (const [label, n] of Object.entries(report.labels)) {
    if (label.endsWith('+fragmented')) fragmented += n;
    if (label.startsWith('first:')) first += n;
    const kind = label.replace(/^first:/, '').replace(/\+fragmented$/, '').replace(/\/.*$/, '');
    kinds[kind] = (kinds[kind] ?? 0) + n;
  }
  const sorted = Object.fromEntries(Object.entries(kinds).sort((a, b) => b[1] - a[1]));
  return [
    `fuzz seed ${report.seed}: ${report.frames} messages on ${report.connections} connections in ${report.ms} ms, ${report.answers} answers checked, ${report.failures.length} failures`,
    `messages: ${counts(sorted)}; ${fragmented} of them fragmented, ${first} sent instead of a hello`,
    `closes: ${counts(report.closes)}`,
  ];
}

/** The server under fuzz: handlers that answer, fail, throw, publish, ask back; middleware that refuses. */
async function startFuzzTarget(fail: (message: string) => void): Promise<{ sb: Switchboard; port: number }> {
  const { sb, port } = await startServer({
    maxMessageBytes: FUZZ_MAX_MESSAGE_BYTES,
    // No heartbeats during a run; short resume so sessions of dropped links end soon after.
    heartbeat: { interval: 600_000, timeout: 600_000 },
    resume: { ttl: 250 },
    ackTimeout: 1000,
    serveClient: false,
    // Rate limits stay on but out of reach, so they do not hide the parsing paths. The
    // connection caps are a few times what the workers hold at once: a connection the
    // server forgot to count out would soon fill them and show as refusals.
    frameRate: { perSecond: 1e6, burst: 1e6 },
    handshakeRate: { perSecond: 1e6, burst: 1e6 },
    maxConnections: 1024,
    maxConnectionsPerIp: 256,
  });
  sb.on('error', (err, context) => {
    // Fire-and-forget events have no one to answer: their handlers' failures are reported here.
    const deliberate = err instanceof DeliberateFailure || (err instanceof ReplyError && err.message === REFUSED);
    if (!deliberate) fail(`the server reported an error of its own: ${(err as Error)?.stack ?? String(err)} ${JSON.stringify(context)}`);
  });
  sb.use((socket, next) => next((socket.handshake.auth as { deny?: unknown } | null)?.deny === true ? new Error('denied on purpose') : undefined));
  sb.sockets.authorizeJoin((_socket, room) => !room.startsWith('secret'));
  const admin = sb.of('/admin');
  admin.use((socket, next) => next((socket.handshake.auth as { admin?: unknown } | null)?.admin === true ? undefined : new Error('admins only')));
  admin.authorizeJoin(async (_socket, room) => {
    await new Promise((resolve) => setImmediate(resolve));
    return !room.startsWith('secret');
  });
  for (const nsp of [sb.sockets, admin]) {
    nsp.durable(/^feed:/);
    installHandlers(nsp);
  }
  // Validation and event authorization see fuzzed data too (root namespace only).
  sb.sockets.schemas({ typed: countSchema(false), typedAsync: countSchema(true) });
  sb.sockets.authorize((_socket, event, data) => event !== 'guarded' || (data as { ok?: unknown } | null)?.ok === true);
  return { sb: sb as Switchboard, port };
}

/** A Standard Schema written out by hand: `{ n: number }`, checked synchronously or not. */
function countSchema(async: boolean): StandardSchemaV1<{ n: number }> {
  const check = (value: unknown): StandardSchemaV1.Result<{ n: number }> =>
    typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
      ? { value: { n: (value as { n: number }).n } }
      : { issues: [{ message: 'expected a number', path: ['n'] }] };
  return { '~standard': { version: 1, vendor: 'fuzz', validate: (value) => (async ? Promise.resolve().then(() => check(value)) : check(value)) } };
}

// biome-ignore lint/suspicious/noExplicitAny: the fuzz target takes any events
function installHandlers(nsp: Namespace<any, any, any>): void {
  nsp.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => data);
    socket.on('slow', async (data: unknown) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return data;
    });
    socket.on('boom', () => {
      throw new DeliberateFailure('a handler failing on purpose');
    });
    socket.on('refuse', () => {
      throw new ReplyError(ErrorCode.Forbidden, REFUSED);
    });
    socket.on('publish', (data: unknown) => {
      nsp.to('feed:a').emit('pub', data);
      nsp.to(['r1', 'lobby']).emit('pub', data);
      return true;
    });
    socket.on('ask', async () => {
      try {
        return { answer: await socket.emitWithAck('question', { q: 1 }, { timeout: 300 }) };
      } catch (err) {
        return { failed: (err as { code?: string }).code };
      }
    });
    socket.on('fire', () => {});
    socket.on('typed', (data: unknown) => data);
    socket.on('typedAsync', (data: unknown) => data);
    socket.on('guarded', () => 'allowed');
  });
}

/** After all that, a well-behaved client still connects and gets its answer. */
async function stillServes(port: number, fail: (message: string) => void): Promise<void> {
  try {
    const client = await BareClient.open(`ws://127.0.0.1:${port}/ws`);
    await client.hello();
    client.send({ type: 'event', event: 'echo', ref: 1, data: { still: 'here' } });
    const reply = await client.next({ type: 'reply', ref: 1 });
    if (JSON.stringify(reply.data) !== '{"still":"here"}') fail(`a well-behaved client got ${JSON.stringify(reply)} after the run`);
    client.close();
    await client.closed;
  } catch (err) {
    fail(`a well-behaved client could not use the server after the run: ${(err as Error).message}`);
  }
}

async function untilIdle(sb: Switchboard, fail: (message: string) => void): Promise<void> {
  const namespaces = ['/', '/admin'].map((name) => sb.of(name));
  // White-box, for memory a client could make grow: resume tokens of ended sessions, requests counted as running
  // (the server's private SessionRegistry holds both).
  const internals = (sb as unknown as { sessions: { resumeTokens?: Map<string, unknown>; inflight?: number } }).sessions;
  const state = (): string =>
    `connections ${sb.connectionCount}, sessions ${sb.sessionCount}, ` +
    namespaces.map((n) => `${n.name}: sockets ${n.sockets.size}, rooms ${n.rooms.count}`).join(', ') +
    `, resume tokens ${internals.resumeTokens?.size}, requests running ${internals.inflight}`;
  const idle = 'connections 0, sessions 0, /: sockets 0, rooms 0, /admin: sockets 0, rooms 0, resume tokens 0, requests running 0';
  const started = Date.now();
  while (state() !== idle) {
    if (Date.now() - started > WAIT_MS) {
      fail(`the server did not return to idle within ${WAIT_MS} ms: ${state()}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Stats {
  connections: number;
  answers: number;
  labels: Map<string, number>;
  closes: Map<string, number>;
}

/** One connection after another, each fed batches of messages until it closes or has had its share. */
class Worker {
  private readonly fuzzer: FrameFuzzer;
  private nextFence = FENCE_BASE;
  private connection = 0;

  constructor(
    private readonly id: number,
    private readonly rng: SeededRandom,
    private readonly port: number,
    private budget: number,
    private readonly tokens: string[],
    private readonly stats: Stats,
    private readonly failed: (message: string) => void,
  ) {
    this.fuzzer = new FrameFuzzer(rng, TARGET, 1_000_000 + id * 1e9);
    this.nextFence += id * 1e9;
  }

  async run(): Promise<void> {
    while (this.budget > 0) {
      this.connection++;
      this.stats.connections++;
      await this.session();
    }
  }

  private fail(message: string): void {
    this.failed(`[worker ${this.id}, connection ${this.connection}] ${message}`);
  }

  private count(message: FuzzMessage): void {
    this.budget--;
    this.stats.labels.set(message.label, (this.stats.labels.get(message.label) ?? 0) + 1);
  }

  private async session(): Promise<void> {
    let ws: RawWebSocket;
    try {
      ws = await RawWebSocket.open(this.port);
    } catch (err) {
      this.fail(`the server refused connection ${this.connection}: ${(err as Error).message}`);
      this.budget = 0;
      return;
    }
    const conn = new Connection(ws, this.tokens, (m) => this.fail(m));
    const first = this.fuzzer.first(conn.view);
    this.count(first.message);
    let quota = this.rng.int(20, 400);
    let pipelined: Batch | undefined;
    if (first.pipelinable && this.budget > 0 && this.rng.chance(0.3)) {
      pipelined = this.batch(conn);
      quota -= pipelined.messages.length;
    }
    conn.clientClose = first.message.expect.kind === 'close' && first.message.expect.clientInitiated ? first.message.expect.codes[0] : undefined;
    await this.write(conn, pipelined ? Buffer.concat([first.message.wire, pipelined.wire]) : first.message.wire);
    // A pipelined batch that ends in a message closing the connection may close it before the welcome.
    const closingBehind = pipelined !== undefined && pipelined.fence === undefined;
    const open = await this.handshake(conn, first.outcome, first.message, closingBehind);
    if (pipelined && (open || closingBehind)) await this.settle(conn, pipelined);
    while (conn.ws.isOpen && quota > 0 && this.budget > 0) {
      const batch = this.batch(conn);
      quota -= batch.messages.length;
      await this.write(conn, batch.wire);
      if (!(await this.settle(conn, batch))) break;
    }
    if (conn.ws.isOpen) {
      const how = this.rng.next();
      if (how < 0.7) await conn.ws.close(1000);
      else if (how < 0.8) {
        conn.clientClose = 4005;
        await conn.ws.close(4005);
      } else {
        conn.dropped = true;
        conn.ws.destroy();
      }
    }
    this.recordClose(conn, await conn.ws.closed);
  }

  /** Up to 40 messages; a message that must close the connection ends the batch, otherwise a fence does. */
  private batch(conn: Connection): Batch {
    const messages: FuzzMessage[] = [];
    const size = this.rng.int(1, 40);
    while (messages.length < size && this.budget > 0) {
      const message = this.fuzzer.next(conn.view);
      this.count(message);
      messages.push(message);
      if (message.expect.kind === 'close') break;
    }
    const last = messages[messages.length - 1] as FuzzMessage;
    const fence = last.expect.kind === 'close' ? undefined : this.nextFence++;
    // After a closing message: sometimes more, which the server must ignore.
    const tail = fence !== undefined ? this.fuzzer.fence(fence) : this.rng.chance(0.5) ? this.fuzzer.afterClose() : Buffer.alloc(0);
    const wire = Buffer.concat([...messages.map((m) => m.wire), tail]);
    return { messages, fence, wire };
  }

  /** Now and then in pieces, split anywhere, a turn of the event loop apart. */
  private async write(conn: Connection, wire: Buffer): Promise<void> {
    if (!this.rng.chance(0.05)) {
      conn.ws.write(wire);
      return;
    }
    const cuts = Array.from({ length: this.rng.int(1, 5) }, () => this.rng.int(0, wire.length)).sort((a, b) => a - b);
    let from = 0;
    for (const cut of [...cuts, wire.length]) {
      conn.ws.write(wire.subarray(from, cut));
      from = cut;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Whether the connection is open and handshaken after the first message. */
  private async handshake(conn: Connection, outcome: HandshakeOutcome, message: FuzzMessage, closingBehind: boolean): Promise<boolean> {
    const result = await conn.until((f) => f.type === 'welcome', WAIT_MS);
    const what = `first message ${message.label} ${JSON.stringify(message.preview)}`;
    if (result === 'timeout') {
      this.fail(`no welcome and no close within ${WAIT_MS} ms after the ${what}`);
      conn.ws.destroy();
      return false;
    }
    if (outcome.kind === 'welcome' && result !== 'frame' && !closingBehind) {
      this.fail(`expected a welcome after the ${what}; the connection closed with ${(await conn.ws.closed).code}`);
      return false;
    }
    if (outcome.kind === 'refused') {
      if (result === 'frame') {
        this.fail(`expected close ${outcome.codes.join('/')} after the ${what}; got a welcome`);
        return true;
      }
      const { code } = await conn.ws.closed;
      if (!outcome.codes.includes(code as number)) this.fail(`expected close ${outcome.codes.join('/')} after the ${what}; got ${code}`);
      if (outcome.errors.length > 0) {
        const error = conn.inbox.find((f) => f.type === 'error');
        if (!error || !outcome.errors.includes(error.code as string)) {
          this.fail(`expected an error frame ${outcome.errors.join('/')} before the close after the ${what}; got ${JSON.stringify(error)}`);
        } else this.stats.answers++;
      }
    }
    return result === 'frame';
  }

  /** Wait for the batch's fence (or close) and check the answers. Returns whether the connection is still usable. */
  private async settle(conn: Connection, batch: Batch): Promise<boolean> {
    const last = batch.messages[batch.messages.length - 1] as FuzzMessage;
    const fence = batch.fence;
    if (fence === undefined) {
      const result = await conn.until(() => false, WAIT_MS);
      if (result === 'timeout') {
        this.fail(`no close within ${WAIT_MS} ms after ${last.label} ${JSON.stringify(last.preview)}`);
        conn.ws.destroy();
        return false;
      }
      const { code } = await conn.ws.closed;
      const codes = last.expect.kind === 'close' ? last.expect.codes : [];
      if (!codes.includes(code as number) && !CLOSES_FROM_ELSEWHERE.has(code)) {
        this.fail(`expected close ${codes.join('/')} after ${last.label} ${JSON.stringify(last.preview)}; got ${code}`);
      }
      if (last.expect.kind === 'close' && last.expect.clientInitiated) conn.clientClose = last.expect.codes[0];
      return false;
    }
    const result = await conn.until((f) => f.type === 'reply' && f.ref === fence, WAIT_MS);
    if (result === 'timeout') {
      this.fail(`no answer to the fence within ${WAIT_MS} ms (a hang) after ${batch.messages.map((m) => m.label).join(', ')}`);
      conn.ws.destroy();
      return false;
    }
    if (result === 'closed') {
      const { code } = await conn.ws.closed;
      if (!CLOSES_FROM_ELSEWHERE.has(code)) {
        this.fail(`the connection closed with ${code} in the middle of a batch of ${batch.messages.map((m) => `${m.label} ${JSON.stringify(m.preview)}`).join(' | ')}`);
      }
      return false;
    }
    this.checkAnswers(batch.messages, conn.takeUntil((f) => f.type === 'reply' && f.ref === fence));
    return true;
  }

  private checkAnswers(messages: readonly FuzzMessage[], received: Frame[]): void {
    const errors = received.filter((f) => f.type === 'error');
    // Most specific first, so a frame that two expectations accept goes to the one needing it.
    const unanswered = messages
      .filter((m) => m.expect.kind === 'answer' && m.expect.ref === undefined)
      .sort((a, b) => answerCodes(a).length - answerCodes(b).length);
    for (const m of messages) {
      if (m.expect.kind !== 'answer' || m.expect.ref === undefined) continue;
      const { ref, codes } = m.expect;
      const reply = received.find((f) => f.type === 'reply' && f.ref === ref);
      const code = (reply?.error as { code?: string } | undefined)?.code;
      if (code !== undefined && codes.includes(code)) this.stats.answers++;
      else this.fail(`${m.label} ${JSON.stringify(m.preview)} should get a reply with ${codes.join('/')}; got ${JSON.stringify(reply) ?? 'none'}`);
    }
    for (const m of unanswered) {
      const codes = answerCodes(m);
      const i = errors.findIndex((f) => codes.includes(f.code as string));
      if (i >= 0) {
        errors.splice(i, 1);
        this.stats.answers++;
      } else {
        this.fail(`${m.label} ${JSON.stringify(m.preview)} should get an error frame ${codes.join('/')}; unmatched error frames: ${JSON.stringify(errors.map((f) => f.code))}`);
      }
    }
  }

  private recordClose(conn: Connection, close: RawClose): void {
    const key = close.code === undefined ? 'none' : String(close.code);
    this.stats.closes.set(key, (this.stats.closes.get(key) ?? 0) + 1);
    if (close.code === undefined) {
      if (!conn.dropped) this.fail('the server ended the TCP connection without a close frame');
      return;
    }
    if (!DOCUMENTED_CLOSES.has(close.code) && close.code !== conn.clientClose) this.fail(`the server closed with the undocumented code ${close.code} (${close.reason})`);
  }
}

function answerCodes(m: FuzzMessage): readonly string[] {
  return m.expect.kind === 'answer' ? m.expect.codes : [];
}

interface Batch {
  messages: FuzzMessage[];
  /** The ref of the closing `leave`; undefined when the last message closes the connection. */
  fence: number | undefined;
  wire: Buffer;
}

/** What the worker sees of one connection: every frame checked as it arrives, kept until a batch is settled. */
class Connection {
  inbox: Frame[] = [];
  readonly view: ConnectionView;
  /** The code of a close the client started (the server echoes it). */
  clientClose: number | undefined;
  /** The client dropped the link itself: no close frame is due. */
  dropped = false;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly ws: RawWebSocket,
    tokens: string[],
    private readonly fail: (message: string) => void,
  ) {
    this.view = { serverRefs: [], resumeTokens: tokens };
    ws.onText = (text) => {
      this.receive(text, tokens);
      this.wake?.();
    };
    void ws.closed.then(() => {
      this.ended = true;
      this.wake?.();
    });
  }

  private receive(text: string, tokens: string[]): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.fail(`the server sent a frame that is not JSON: ${text.slice(0, 200)}`);
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') {
      this.fail(`the server sent a frame without a type: ${text.slice(0, 200)}`);
      return;
    }
    const code = frame.type === 'error' ? frame.code : frame.type === 'reply' ? (frame.error as { code?: unknown } | undefined)?.code : undefined;
    if (code !== undefined && !DOCUMENTED_ERRORS.has(code as string)) this.fail(`the server sent an undocumented error code: ${text.slice(0, 300)}`);
    if (frame.type === 'welcome' && typeof frame.resume === 'string') {
      tokens.push(frame.resume);
      if (tokens.length > 64) tokens.shift();
    }
    if (frame.type === 'event' && typeof frame.ref === 'number' && this.view.serverRefs.length < 20) this.view.serverRefs.push(frame.ref);
    this.inbox.push(frame);
  }

  /** Until a frame matching `match` is in the inbox, the connection ends, or `ms` pass. */
  until(match: (f: Frame) => boolean, ms: number): Promise<'frame' | 'closed' | 'timeout'> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.inbox.some(match)) resolve('frame');
        else if (this.ended) resolve('closed');
        else return false;
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve('timeout');
      }, ms);
      this.wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.wake = undefined;
      };
    });
  }

  /** The frames up to and including the first matching one, removed from the inbox. */
  takeUntil(match: (f: Frame) => boolean): Frame[] {
    const end = this.inbox.findIndex(match);
    return this.inbox.splice(0, end + 1);
  }
}

/** A seed from the environment variable `name` (decimal or 0x hex), or a fresh one. */
export function seedFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (!raw) return Math.floor(Math.random() * 0x100000000) >>> 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${name} must be an integer from 0 to 4294967295, got ${JSON.stringify(raw)}`);
  return value;
}

/** A positive count from the environment variable `name`, or `fallback`. */
export function countFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}
