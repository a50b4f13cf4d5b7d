/**
 * A load process: some of the 50 editors, driven by run.ts over IPC (advanced
 * serialization, so latencies come back as one Float64Array). Pinned to the load core by
 * the runner; the server under test has the other core.
 *
 * Commands, each answered with the same id:
 * - `open` {kind, port, count, first, total}: open `count` editors (global numbers first…),
 *   one after another, each synced before the next.
 * - `clock`: this process's reading of the shared monotonic clock.
 * - `step` {startUs, rate, warmupMs, measureMs, tailMs}: from startUs, editor g makes edit k
 *   at startUs + (k + g/total) / rate s, until warm-up + window + tail have passed; answers
 *   with what each editor sent and how late the edits went out.
 * - `drain` {sentBy}: wait until every editor has received every other editor's edits of
 *   the step (or nothing arrived for DRAIN_STALL_MS), answer with the arrivals in the window
 *   and their latencies.
 * - `digest`: each editor's text length and a hash of its text (they must all agree).
 */
import { createHash } from 'node:crypto';
import type * as Y from 'yjs';
import { openEditor, type Editor, type EditorKind } from './editor-clients.js';
import { editText, insertedBy, monotonicUs, stampsIn } from './workload.js';

const DRAIN_STALL_MS = 3_000;
const DRAIN_MAX_MS = 30_000;

interface Tracked {
  editor: Editor;
  global: number;
  /** Remote edits seen since the step began. */
  received: number;
}

type Command =
  | { id: number; cmd: 'open'; kind: EditorKind; port: number; count: number; first: number; total: number }
  | { id: number; cmd: 'clock' }
  | { id: number; cmd: 'step'; startUs: number; rate: number; warmupMs: number; measureMs: number; tailMs: number }
  | { id: number; cmd: 'drain'; sentBy: number[] }
  | { id: number; cmd: 'digest' };

const editors: Tracked[] = [];
let total = 0;
/** The window of the current step, in monotonic µs; arrivals inside it are counted and timed. */
let windowFrom = Infinity;
let windowTo = -Infinity;
let latencies: number[] = [];
let inWindow = 0;
/** Remote transactions that carried edits, in the window: fewer than the edits when a provider merges updates. */
let updatesInWindow = 0;
const stamps: number[] = [];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const reply = (id: number, result: Record<string, unknown>): void => {
  process.send?.({ id, ...result });
};

function track(editor: Editor, global: number): Tracked {
  const tracked: Tracked = { editor, global, received: 0 };
  editor.doc.on('afterTransaction', (transaction: Y.Transaction) => {
    if (transaction.local) return;
    const at = monotonicUs();
    stamps.length = 0;
    stampsIn(insertedBy(transaction, editor.doc), stamps);
    tracked.received += stamps.length;
    if (at < windowFrom || at > windowTo) return;
    inWindow += stamps.length;
    if (stamps.length > 0) updatesInWindow++;
    for (const stamp of stamps) latencies.push(at - stamp);
  });
  return tracked;
}

async function open(cmd: Extract<Command, { cmd: 'open' }>): Promise<void> {
  total = cmd.total;
  for (let i = 0; i < cmd.count; i++) editors.push(track(await openEditor(cmd.kind, cmd.port), cmd.first + i));
  reply(cmd.id, { opened: editors.length });
}

/** Open-loop pacing: edits go out on schedule whatever the server does; lateness is recorded, not hidden. */
async function step(cmd: Extract<Command, { cmd: 'step' }>): Promise<void> {
  for (const e of editors) e.received = 0;
  latencies = [];
  inWindow = 0;
  updatesInWindow = 0;
  windowFrom = cmd.startUs + cmd.warmupMs * 1000;
  windowTo = windowFrom + cmd.measureMs * 1000;
  const endUs = windowTo + cmd.tailMs * 1000;
  const periodUs = 1e6 / cmd.rate;
  const sent = editors.map(() => 0);
  const late: number[] = [];
  const dueAt = (i: number): number => cmd.startUs + ((sent[i] as number) + (editors[i] as Tracked).global / total) * periodUs;
  for (;;) {
    let now = monotonicUs();
    if (now >= endUs) break;
    let next = endUs;
    for (let i = 0; i < editors.length; i++) {
      const { text } = (editors[i] as Tracked).editor;
      for (let due = dueAt(i); due <= now && due < endUs; due = dueAt(i)) {
        const at = monotonicUs();
        text.insert(text.length, editText(at));
        late.push(at - due);
        sent[i] = (sent[i] as number) + 1;
        now = at;
      }
      next = Math.min(next, dueAt(i));
    }
    const waitMs = (next - monotonicUs()) / 1000;
    await sleep(Math.max(0, Math.floor(waitMs)));
  }
  late.sort((a, b) => a - b);
  reply(cmd.id, {
    sent,
    lateP99Us: late[Math.floor(late.length * 0.99)] ?? 0,
    lateMaxUs: late[late.length - 1] ?? 0,
  });
}

async function drain(cmd: Extract<Command, { cmd: 'drain' }>): Promise<void> {
  const all = cmd.sentBy.reduce((s, x) => s + x, 0);
  const expected = (e: Tracked): number => all - (cmd.sentBy[e.global] ?? 0);
  const outstanding = (): number => editors.reduce((s, e) => s + Math.max(0, expected(e) - e.received), 0);
  const started = Date.now();
  let last = outstanding();
  let lastChange = Date.now();
  while (last > 0 && Date.now() - lastChange < DRAIN_STALL_MS && Date.now() - started < DRAIN_MAX_MS) {
    await sleep(20);
    const now = outstanding();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
  windowFrom = Infinity;
  windowTo = -Infinity;
  const received = editors.reduce((s, e) => s + e.received, 0);
  reply(cmd.id, { inWindow, updatesInWindow, received, missing: last, drainMs: Date.now() - started, latenciesUs: Float64Array.from(latencies) });
  latencies = [];
}

function digest(id: number): void {
  reply(id, {
    lengths: editors.map((e) => e.editor.text.length),
    hashes: editors.map((e) => createHash('sha1').update(e.editor.text.toString()).digest('hex').slice(0, 12)),
  });
}

process.on('message', (cmd: Command) => {
  const failed = (err: unknown): void => reply(cmd.id, { error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  try {
    switch (cmd.cmd) {
      case 'open':
        open(cmd).catch(failed);
        break;
      case 'clock':
        reply(cmd.id, { us: monotonicUs() });
        break;
      case 'step':
        step(cmd).catch(failed);
        break;
      case 'drain':
        drain(cmd).catch(failed);
        break;
      case 'digest':
        digest(cmd.id);
        break;
    }
  } catch (err) {
    failed(err);
  }
});
process.on('disconnect', () => process.exit(0));
// y-websocket's provider adds a process 'exit' listener per instance (to drop its awareness state): 25 here is not a leak.
process.setMaxListeners(0);
process.send?.({ type: 'ready' });
