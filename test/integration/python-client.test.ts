/**
 * A client in another language, written from docs/PROTOCOL.md alone: test/interop/binary_client.py
 * speaks the protocol over a hand-made WebSocket with Python's standard library, binary
 * messages and the text form included. What it prints is checked here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Switchboard } from '../../src/server/index.js';
import { startServer } from '../helpers/server.js';

const run = promisify(execFile);
let sb: Switchboard;
let port: number;

before(async () => {
  ({ sb, port } = await startServer());
  sb.on('connection', (socket) => {
    socket.on('echo', (data: unknown) => ({ got: data, extra: new Uint8Array([7, 8]) }));
  });
});
after(() => sb.close());

test('a Python client sends and receives binary data in both forms', async () => {
  const { stdout } = await run('python3', ['test/interop/binary_client.py', String(port)], { timeout: 30_000 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; frame?: Record<string, unknown> });
  assert.equal(lines[0]?.kind, 'welcome');

  // Its binary message arrived as bytes; the reply holding bytes came back as a binary message.
  assert.deepEqual(lines[1], {
    kind: 'binary',
    frame: { type: 'reply', ref: 1, data: { got: { a: { bytes: [0, 1, 255] }, list: [1, { bytes: [] }] }, extra: { bytes: [7, 8] } } },
  });
  // The text form (base64) is read the same way; the answer is a binary message, as the client asked in hello.
  assert.deepEqual(lines[2], { kind: 'binary', frame: { type: 'reply', ref: 2, data: { got: { a: { bytes: [104, 105] } }, extra: { bytes: [7, 8] } } } });
  // A broken binary message gets an error frame, and the connection stays open to say so.
  assert.equal(lines[3]?.kind, 'text');
  assert.equal(lines[3]?.frame?.type, 'error');
  assert.equal(lines[3]?.frame?.code, 'malformed_binary');
});
