/**
 * A token-stream reader in another language, written from docs/AI-STREAMING.md alone:
 * test/interop/token_stream_reader.py (Python's standard library, a hand-made WebSocket)
 * joins a room mid-message, pages back through the history to the message's start, then
 * follows the live chunks. What it prints is checked here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import type { Switchboard } from '../../src/server/index.js';
import { startTokenStream, type TokenStream } from '../../src/token-streams/index.js';
import { startServer } from '../helpers/server.js';

let sb: Switchboard;
let port: number;

before(async () => {
  ({ sb, port } = await startServer());
  sb.durable(/^ai:/);
});
after(() => sb.close());

const words = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}${i} `);

/** Append the words one by one, a macrotask apart (most become a chunk of their own). */
async function feed(stream: TokenStream, parts: readonly string[]): Promise<void> {
  for (const part of parts) {
    stream.append(part);
    await new Promise((r) => setImmediate(r));
  }
}

test('a Python reader joins mid-message, finds the start in earlier history pages, and ends with the whole text, each chunk once', async () => {
  const other = startTokenStream(sb, 'ai:py', { id: 'other' });
  const answer = startTokenStream(sb, 'ai:py', { id: 'py' });
  const early = words(23, 'e');
  await feed(answer, early.slice(0, 5));
  await feed(other, words(4, 'o'));
  await other.finish();
  await feed(answer, early.slice(5));

  const python = spawn('python3', ['test/interop/token_stream_reader.py', String(port), 'ai:py', 'py'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  python.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const lines = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the Python reader ended early: ${stderr}`);
    return JSON.parse(value as string) as Record<string, unknown>;
  };

  const caughtUp = await next();
  assert.equal(caughtUp.kind, 'caught-up');
  assert.equal(caughtUp.text, early.join(''), 'the chunks so far, from history');
  assert.ok((caughtUp.pages as number) > 2, `it paged back (${caughtUp.pages} pages)`);

  const late = words(10, 'l');
  await feed(answer, late);
  await answer.finish();
  const ended = await next();
  assert.equal(ended.kind, 'ended', JSON.stringify(ended));
  const message = ended.message as { text: string; done: boolean; partial: boolean };
  assert.deepEqual({ text: message.text, done: message.done, partial: message.partial }, { text: [...early, ...late].join(''), done: true, partial: false });
  const shown = ended.shown as string[];
  for (let i = 1; i < shown.length; i++) assert.ok(shown[i]?.startsWith(shown[i - 1] as string), `"${shown[i]}" continues "${shown[i - 1]}"`);
  assert.equal(shown.at(-1), [...early, ...late].join(''));
  assert.ok(shown.length > 2, 'it followed the live chunks');
  await new Promise((resolve) => python.once('exit', resolve));
});
