/**
 * A Socket.IO bad-input run: a live Switchboard with `socketIo` on, healthy socket.io-clients
 * (one upgrading to WebSocket, one polling-only) using it throughout, and workers throwing
 * SocketIoFuzzer cases at it over raw Engine.IO connections, polling and WebSocket. Checks,
 * per docs/SOCKET-IO.md "Bad input":
 *  - the process survives and the server reports no error of its own (`sb.on('error')`,
 *    `connection_error`);
 *  - every case gets what it must: a close (polling: the POST's documented status, then a
 *    close packet or code 1; WebSocket: 1000 after a close packet, 1009 past maxPayload),
 *    or its documented answer with the connection still open (a probe is answered);
 *  - everything the server sends is well-formed for the real socket.io-parser, and every
 *    error code in it is documented;
 *  - the healthy clients get every answer and never lose their connection;
 *  - connections, sessions, Engine.IO connections and admitted sockets return to what
 *    they were before the run.
 * Used by test/integration/socketio-fuzz.test.ts (and `npm run fuzz -- --socketio`).
 */
import { Decoder, type Packet, PacketType } from 'socket.io-parser';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import { type EngineLink, type EngineMessage, openEngineLink } from './engine-io-link.js';
import { deriveSeed, seededRandom } from './seeded-random.js';
import { startServer } from './server.js';
import { type SocketIoFuzzCase, SocketIoFuzzer, type SocketIoFuzzTarget } from './socketio-fuzzer.js';
import { collectFailures } from './fuzz-failures.js';

export interface SocketIoFuzzOptions {
  seed: number;
  cases: number;
  /** Connections at a time. Default 8. */
  concurrency?: number;
}

export interface SocketIoFuzzReport {
  seed: number;
  cases: number;
  labels: Record<string, number>;
  /** How the bad connections ended (`open`, `close packet`, `ws 1009`, …). */
  endings: Record<string, number>;
  /** Answers the healthy clients got meanwhile. */
  healthyAnswers: number;
  failures: string[];
  ms: number;
}

export const SOCKET_IO_FUZZ_SETTINGS = { maxPayload: 8192, maxAttachments: 10, pingInterval: 1000, pingTimeout: 2000 };
const TARGET: SocketIoFuzzTarget = { maxPayload: SOCKET_IO_FUZZ_SETTINGS.maxPayload, maxAttachments: SOCKET_IO_FUZZ_SETTINGS.maxAttachments, events: ['echo', 'refuse'], namespace: '/chat' };
const DOCUMENTED_ERRORS: ReadonlySet<string> = new Set(Object.values(ErrorCode));
const WAIT_MS = 5000;
const REFUSED = 'refused on purpose';

export async function runSocketIoFuzz(options: SocketIoFuzzOptions): Promise<SocketIoFuzzReport> {
  const started = Date.now();
  const { failures, fail, unwatch } = collectFailures();
  const labels = new Map<string, number>();
  const endings = new Map<string, number>();
  const sb = await startFuzzTarget(fail);
  const base = `http://127.0.0.1:${sb.port}/socket.io/`;
  const healthy = await HealthyClients.start(`http://127.0.0.1:${sb.port}`, fail);
  try {
    const before = counts(sb);
    const concurrency = options.concurrency ?? 8;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        const rng = seededRandom(deriveSeed(options.seed, `socket.io worker ${w}`));
        const fuzzer = new SocketIoFuzzer(rng, TARGET, 1000 + w * 1_000_000);
        const share = Math.floor(options.cases / concurrency) + (w < options.cases % concurrency ? 1 : 0);
        for (let i = 0; i < share; i++) {
          const fuzzCase = fuzzer.next();
          const transport = rng.chance(0.5) ? 'polling' : 'websocket';
          const label = `${fuzzCase.label} (${transport})`;
          labels.set(fuzzCase.label, (labels.get(fuzzCase.label) ?? 0) + 1);
          const ending = await runCase(base, transport, fuzzCase, (message) => fail(`${label}: ${message}; sent ${preview(fuzzCase)}`));
          endings.set(ending, (endings.get(ending) ?? 0) + 1);
        }
      }),
    );
    await healthy.check();
    await untilBack(sb, before, fail);
  } finally {
    healthy.close();
    await sb.close({ deadline: 1000 });
    unwatch();
  }
  return {
    seed: options.seed,
    cases: options.cases,
    labels: Object.fromEntries([...labels].sort((a, b) => b[1] - a[1])),
    endings: Object.fromEntries([...endings].sort((a, b) => b[1] - a[1])),
    healthyAnswers: healthy.answers,
    failures,
    ms: Date.now() - started,
  };
}

export function describeSocketIoReport(report: SocketIoFuzzReport): string[] {
  const list = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `socket.io fuzz seed ${report.seed}: ${report.cases} cases in ${report.ms} ms, ${report.healthyAnswers} answers to the healthy clients, ${report.failures.length} failures`,
    `cases: ${list(report.labels)}`,
    `endings: ${list(report.endings)}`,
  ];
}

/** The server under fuzz: an echo, a handler that refuses, a second namespace; limits out of reach. */
async function startFuzzTarget(fail: (message: string) => void): Promise<Switchboard> {
  const { sb } = await startServer({
    socketIo: SOCKET_IO_FUZZ_SETTINGS,
    serveClient: false,
    // Rate limits on but out of reach, so they do not hide the parsing paths (the floods test them).
    frameRate: { perSecond: 1e6, burst: 1e6 },
    handshakeRate: { perSecond: 1e6, burst: 1e6 },
    maxConnections: 1024,
    maxConnectionsPerIp: 512,
  });
  sb.on('error', (err, context) => {
    // A handler that refuses a fire-and-forget event has no one to answer: that one is reported here.
    if (err instanceof ReplyError && err.message === REFUSED) return;
    fail(`the server reported an error: ${(err as Error)?.stack ?? String(err)} ${JSON.stringify(context)}`);
  });
  sb.on('connection_error', (error) => fail(`a connection was refused: ${JSON.stringify(error)}`));
  for (const nsp of [sb.sockets, sb.of(TARGET.namespace)]) {
    nsp.on('connection', (socket) => {
      socket.on('echo', (data: unknown) => data);
      socket.on('refuse', () => {
        throw new ReplyError(ErrorCode.Forbidden, REFUSED);
      });
    });
  }
  return sb as Switchboard;
}

/** One case on a fresh connection; returns how the connection ended. */
async function runCase(base: string, transport: 'polling' | 'websocket', fuzzCase: SocketIoFuzzCase, fail: (message: string) => void): Promise<string> {
  const link = await openEngineLink(base, transport);
  if (!link) {
    fail('the handshake was refused');
    return 'refused';
  }
  const checker = new WireCheck(fail);
  try {
    await link.send(['40']);
    if ((await link.until((p) => typeof p === 'string' && /^40\{"sid":/.test(p), WAIT_MS)) !== 'packet') {
      fail(`no CONNECT answer (${link.ending ?? 'timeout'})`);
      return 'no connect';
    }
    const status = fuzzCase.rawBody !== undefined && link.transport === 'polling' ? (await link.sendRaw(fuzzCase.rawBody))?.status : await link.send(fuzzCase.packets);
    const { expect } = fuzzCase;
    if (link.transport === 'polling' && expect.kind === 'close' && expect.status && !expect.status.includes(status as number)) {
      fail(`the POST was answered ${status}, expected ${expect.status.join('/')}`);
    }
    if (link.transport === 'polling' && expect.kind !== 'close' && expect.kind !== 'any' && status !== 200) fail(`the POST was answered ${status}, expected 200`);
    const probeSent = !link.closed && (link.transport === 'websocket' || status === 200);
    if (probeSent) await link.send(fuzzCase.probe.packets);
    const isProbeAnswer = (p: EngineMessage): boolean => typeof p === 'string' && fuzzCase.probe.answer.test(p);
    const result = await link.until(probeSent ? isProbeAnswer : () => false, WAIT_MS);
    if (result === 'timeout') {
      fail(`neither closed nor answered within ${WAIT_MS} ms; received ${received(link)}`);
      return 'timeout';
    }
    const probeAnswered = result === 'packet';
    if (probeAnswered) {
      // Whatever the server sent before the probe's answer (the case's answers) arrived with it.
      await settleWs(link);
    }
    const answered = link.received.some((p) => typeof p === 'string' && expect.kind === 'answer' && expect.answer.test(p));
    switch (expect.kind) {
      case 'close':
        if (probeAnswered) fail(`expected the connection to close; it answered the probe; received ${received(link)}`);
        break;
      case 'answer':
        if (!answered) fail(`expected an answer matching ${expect.answer}; received ${received(link)}`);
        if (!probeAnswered) fail(`expected the connection to stay open; it ended (${link.ending}); received ${received(link)}`);
        break;
      case 'open':
        if (!probeAnswered) fail(`expected the connection to stay open; it ended (${link.ending}); received ${received(link)}`);
        break;
      case 'any':
        break;
    }
    if (link.transport === 'websocket' && link.closed) {
      const tooBig = fuzzCase.label.startsWith('limit/');
      const documented = tooBig ? [1009] : [1000];
      if (!documented.includes(link.closeCode as number)) fail(`WebSocket closed with ${link.closeCode}, expected ${documented.join('/')}`);
      if (!tooBig && !link.received.includes('1')) fail(`WebSocket closed without a close packet first; received ${received(link)}`);
    }
    checker.check(link.received);
    return probeAnswered ? 'open' : (link.ending ?? 'closed');
  } finally {
    await link.close();
  }
}

/** On a WebSocket, frames sent together arrive together; a turn of the loop lets stragglers in. */
async function settleWs(link: EngineLink): Promise<void> {
  if (link.transport === 'websocket') await new Promise((resolve) => setImmediate(resolve));
}

/** What a socket.io-client would make of what the server sent: every packet must decode, every error code be documented. */
class WireCheck {
  constructor(private readonly fail: (message: string) => void) {}

  check(packets: readonly EngineMessage[]): void {
    const decoder = new Decoder();
    decoder.on('decoded', (packet: Packet) => this.codes(packet));
    for (const [i, p] of packets.entries()) {
      if (i === 0) continue; // the open packet
      if (typeof p !== 'string') {
        this.add(decoder, p);
        continue;
      }
      if (!/^[0-6]/.test(p)) {
        this.fail(`the server sent an Engine.IO packet of no known type: ${p.slice(0, 80)}`);
        continue;
      }
      if (p[0] === '4') this.add(decoder, p.slice(1));
    }
  }

  private add(decoder: Decoder, data: string | Uint8Array): void {
    try {
      decoder.add(data);
    } catch (err) {
      this.fail(`socket.io-parser refuses what the server sent (${(err as Error).message}): ${typeof data === 'string' ? data.slice(0, 120) : `<${data.length} bytes>`}`);
    }
  }

  private codes(packet: Packet): void {
    const codes: unknown[] = [];
    if (packet.type === PacketType.CONNECT_ERROR) codes.push((packet.data as { data?: { code?: unknown } })?.data?.code);
    if (packet.type === PacketType.EVENT && Array.isArray(packet.data) && packet.data[0] === 'error') codes.push((packet.data[1] as { code?: unknown })?.code);
    if (packet.type === PacketType.ACK && Array.isArray(packet.data)) {
      const error = (packet.data[0] as { error?: { code?: unknown } } | null)?.error;
      if (error && typeof error === 'object' && 'message' in error) codes.push(error.code);
    }
    for (const code of codes) if (!DOCUMENTED_ERRORS.has(code as string)) this.fail(`the server sent an undocumented error code: ${JSON.stringify(packet).slice(0, 200)}`);
  }
}

/** socket.io-clients using the server throughout the run: one upgrading to WebSocket, one polling only. */
class HealthyClients {
  answers = 0;
  private sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly disconnects: string[] = [];

  private constructor(
    private readonly sockets: ClientSocket[],
    private readonly fail: (message: string) => void,
  ) {
    for (const [i, socket] of sockets.entries()) socket.on('disconnect', (reason) => this.disconnects.push(`client ${i}: ${reason}`));
    this.timer = setInterval(() => this.ask(), 20);
  }

  static async start(url: string, fail: (message: string) => void): Promise<HealthyClients> {
    const sockets = [io(url, { forceNew: true, reconnection: false }), io(url, { forceNew: true, reconnection: false, transports: ['polling'] })];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('connect_error', reject))));
    return new HealthyClients(sockets, fail);
  }

  /** After the run: every question answered, no connection lost, and the first still upgraded. */
  async check(): Promise<void> {
    clearInterval(this.timer);
    const started = Date.now();
    while (this.answers < this.sent && Date.now() - started < WAIT_MS) await new Promise((r) => setTimeout(r, 20));
    if (this.answers < this.sent) this.fail(`the healthy clients got ${this.answers} answers to ${this.sent} questions`);
    if (this.disconnects.length > 0) this.fail(`a healthy client lost its connection: ${this.disconnects.join('; ')}`);
    if (this.sockets[0]?.io.engine.transport.name !== 'websocket') this.fail('the healthy client did not upgrade to WebSocket');
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.sockets) s.close();
  }

  private ask(): void {
    for (const socket of this.sockets) {
      const n = this.sent++;
      socket
        .timeout(WAIT_MS)
        .emitWithAck('echo', { n, text: 'still here' })
        .then(
          (answer: unknown) => {
            if ((answer as { n?: unknown })?.n === n) this.answers++;
            else this.fail(`a healthy client asked ${n} and got ${JSON.stringify(answer)}`);
          },
          (err: unknown) => this.fail(`a healthy client's question ${n} failed: ${(err as Error).message}`),
        );
    }
  }
}

/** What is counted of the server: connections, sessions, Engine.IO connections, admitted sockets. */
function counts(sb: Switchboard): string {
  const internals = sb as unknown as { socketIo: { size: number }; admission: { connections: number } };
  return `connections ${sb.connectionCount}, sessions ${sb.sessionCount}, engine.io ${internals.socketIo.size}, admitted ${internals.admission.connections}`;
}

async function untilBack(sb: Switchboard, before: string, fail: (message: string) => void): Promise<void> {
  const started = Date.now();
  while (counts(sb) !== before) {
    if (Date.now() - started > WAIT_MS * 2) {
      fail(`the server's counts did not return: before the run ${before}; now ${counts(sb)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function received(link: EngineLink): string {
  const shown = link.received.slice(1).map((p) => (typeof p === 'string' ? p.slice(0, 100) : `<${p.length} bytes>`));
  return `${JSON.stringify(shown).slice(0, 400)} (${link.ending ?? 'open'})`;
}

function preview(fuzzCase: SocketIoFuzzCase): string {
  const parts = fuzzCase.rawBody !== undefined ? [fuzzCase.rawBody] : fuzzCase.packets;
  return JSON.stringify(parts.map((p) => (typeof p === 'string' ? (p.length > 80 ? `${p.slice(0, 80)}…(${p.length})` : p) : `<${p.length} bytes>`))).slice(0, 300);
}
