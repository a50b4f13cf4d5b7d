/**
 * Graceful shutdown of the example servers (issue 5, item 6), for real: each server runs
 * as its own process, gets a real signal, and a real client watches what happens.
 * examples/shared/graceful-shutdown.ts is the behaviour under test; the chat is what
 * `npm start` runs, test/fixtures/slow-reply-server.ts adds a slow handler to have a reply
 * in flight.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { connect, type StateChange, type SwitchboardClient } from '../../src/client/node.js';

/** A server process, its output line by line, and how it exited. */
class ServerProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.add(line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => process.stderr.write(chunk));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  static start(script: string, env: Record<string, string> = {}): ServerProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, PORT: '0', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const server = new ServerProcess(child);
    running.add(server);
    return server;
  }

  /** The first output line (already printed or to come) matching `pattern`. */
  line(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${ms} ms; output:\n${this.lines.join('\n')}`)), ms);
      this.waiters.push({
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  private add(line: string): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      const match = w.pattern.exec(line);
      if (match) w.resolve(match);
      return !match;
    });
  }
}

const running = new Set<ServerProcess>();
after(() => {
  for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

/** A client that does not reconnect, connected; `closed` resolves with the state change the close caused. */
async function connectClient(url: string, auth?: unknown): Promise<{ client: SwitchboardClient; closed: Promise<StateChange> }> {
  const client = connect(url, { reconnect: false, ...(auth === undefined ? {} : { auth }) });
  const closed = new Promise<StateChange>((resolve) => client.on('state', (change) => change.previous === 'connected' && resolve(change)));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('connect_error', reject);
  });
  return { client, closed };
}

/** The HTTP status an upgrade gets (101 when it is accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'switchboard.v1');
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

test('npm start (the chat): SIGTERM tells a connected client 1001 server_shutdown, logs "shutting down" and "closed", and exits 0', async () => {
  const server = ServerProcess.start('examples/chat/server.ts');
  const [, port] = await server.line(/http:\/\/localhost:(\d+)\//);
  const { client, closed } = await connectClient(`ws://127.0.0.1:${port}/ws`, { name: 'Ada' });

  server.child.kill('SIGTERM');
  const change = await closed;
  assert.equal(change.closeCode, 1001);
  assert.equal(change.reason, 'server_shutdown');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  const shuttingDown = server.lines.findIndex((l) => /^SIGTERM: shutting down/.test(l));
  assert.ok(shuttingDown >= 0, `no "shutting down" line in:\n${server.lines.join('\n')}`);
  assert.equal(server.lines.at(-1), 'closed', 'the last line says it closed');
  client.close();
});

test('a reply in flight at SIGTERM is still sent before the 1001 close, new connections are refused meanwhile, and the process exits 0', async () => {
  const server = ServerProcess.start('test/fixtures/slow-reply-server.ts');
  const [, port] = await server.line(/listening on port (\d+)/);
  const url = `ws://127.0.0.1:${port}/ws`;
  const { client, closed } = await connectClient(url);
  const reply = client.emitWithAck('slow', { ms: 1000 });
  await server.line(/^slow started/);

  server.child.kill('SIGTERM');
  await server.line(/shutting down/);
  assert.equal(await upgradeStatus(url), 503, 'no new connections while shutting down');
  assert.deepEqual(await reply, { waited: 1000 });
  assert.equal((await closed).closeCode, 1001);
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  assert.ok(server.lines.indexOf('slow finished 1000') < server.lines.indexOf('closed'), server.lines.join('\n'));
  client.close();
});

test('past SHUTDOWN_DEADLINE_MS the server stops waiting for a handler: the client is told 1001, the process exits 0', async () => {
  const server = ServerProcess.start('test/fixtures/slow-reply-server.ts', { SHUTDOWN_DEADLINE_MS: '200' });
  const [, port] = await server.line(/listening on port (\d+)/);
  const { client, closed } = await connectClient(`ws://127.0.0.1:${port}/ws`);
  const reply = client.emitWithAck('slow', { ms: 60_000 });
  await server.line(/^slow started/);

  server.child.kill('SIGTERM');
  await assert.rejects(reply, { code: 'disconnected' });
  assert.equal((await closed).closeCode, 1001);
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  assert.ok(!server.lines.some((l) => l.startsWith('slow finished')), 'the handler was not waited for');
  assert.ok(server.lines.some((l) => /up to 200 ms/.test(l)), server.lines.join('\n'));
  client.close();
});

test('a second signal during the shutdown exits at once with 128 + its number', async () => {
  const server = ServerProcess.start('test/fixtures/slow-reply-server.ts', { SHUTDOWN_DEADLINE_MS: '60000' });
  const [, port] = await server.line(/listening on port (\d+)/);
  const { client } = await connectClient(`ws://127.0.0.1:${port}/ws`);
  void client.emitWithAck('slow', { ms: 60_000 }).catch(() => {});
  await server.line(/^slow started/);

  server.child.kill('SIGTERM');
  await server.line(/shutting down/);
  server.child.kill('SIGINT');
  assert.deepEqual(await server.exited, { code: 130, signal: null });
  assert.ok(server.lines.some((l) => /^SIGINT again: exiting at once/.test(l)), server.lines.join('\n'));
  assert.ok(!server.lines.includes('closed'));
  client.close();
});
