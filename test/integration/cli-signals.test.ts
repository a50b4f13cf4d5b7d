/**
 * Signals of the real `switchboard` process (processIo in src/cli/main.ts), shown on
 * `serve`: the first SIGINT/SIGTERM starts the graceful close; a second one, of either
 * kind, ends the process at once with 130 (SIGINT) or 143 (SIGTERM).
 * To keep the graceful close busy while the second signal comes, a client stops reading
 * its socket: the server waits for it to answer the 1001 close (up to its grace period).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ServeDir, ServeProcess } from '../fixtures/serve-process.js';
import { BareClient } from '../helpers/bare-client.js';

const dir = new ServeDir();
const started: ServeProcess[] = [];
const clients: BareClient[] = [];

after(async () => {
  for (const client of clients) client.ws.terminate();
  for (const serve of started) await serve.stop();
  dir.remove();
});

/** A serve process with one client that has said hello and then stopped reading. */
async function serveWithFrozenClient(): Promise<ServeProcess> {
  const serve = await ServeProcess.start(['--port', '0'], { cwd: dir.path });
  started.push(serve);
  const client = await BareClient.open(serve.wsUrl);
  clients.push(client);
  await client.hello();
  (client.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  return serve;
}

for (const [first, second, status] of [
  ['SIGINT', 'SIGTERM', 143],
  ['SIGINT', 'SIGINT', 130],
  ['SIGTERM', 'SIGINT', 130],
] as const) {
  test(`${first} starts the graceful close; ${second} during it exits ${status} at once`, async () => {
    const serve = await serveWithFrozenClient();
    serve.child.kill(first);
    await serve.waitFor(/shutting down/, 10_000);
    serve.child.kill(second);
    const run = await serve.exited;
    assert.deepEqual({ code: run.code, signal: run.signal }, { code: status, signal: null }, run.stderr);
    assert.doesNotMatch(run.stdout, /\bclosed\b/, 'the graceful close did not get to finish');
  });
}

test('one signal alone still closes gracefully and exits 0', async () => {
  const serve = await serveWithFrozenClient();
  serve.child.kill('SIGTERM');
  const run = await serve.exited;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /shutting down[\s\S]*\bclosed\b/);
});
