/**
 * `switchboard bench` against a real server with small numbers: the summary's counts must
 * add up (every connection opened and joined, every publication delivered to every member).
 * No timing is asserted: speed is what the command reports, not what the test checks.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { benchCommand } from '../../src/cli/bench/command.js';
import type { BenchResult } from '../../src/cli/bench/bench-run.js';
import type { CliIo } from '../../src/cli/command.js';
import { ReplyError } from '../../src/server/index.js';
import { type ApiNode, startApiNode } from '../helpers/http-api.js';

const KEY = 'bench-key-0123456789';
let node: ApiNode;
/** An HTTP API that reads each request and never answers it. */
let silentApi: Server;
let silentBase: string;
const silentRequests: { authorization: string | undefined }[] = [];

before(async () => {
  node = await startApiNode({ keys: [KEY] });
  silentApi = createServer((req) => {
    silentRequests.push({ authorization: req.headers.authorization });
    req.resume();
  });
  await new Promise<void>((resolve) => silentApi.listen(0, '127.0.0.1', resolve));
  silentBase = `http://127.0.0.1:${(silentApi.address() as AddressInfo).port}/api/switchboard`;
  node.sb.use((socket, next) => next((socket.handshake.auth as { name?: unknown } | undefined)?.name === 'nobody' ? new ReplyError('who_are_you', 'no such user') : undefined));
  node.sb.on('connection', (socket) => {
    // What the chat example does, minus excluding the sender: a request broadcast to the room.
    socket.on('shout', (data: unknown) => void node.sb.to((data as { room: string }).room).emit('heard', data));
    socket.on('enter', (data: unknown) => void socket.join((data as { room: string }).room));
  });
});

after(async () => {
  silentApi.closeAllConnections();
  await new Promise((resolve) => silentApi.close(resolve));
  await node.close();
});

/** Run the command in-process with `env` as its environment; stdout and stderr collected. */
async function bench(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env, signal: new AbortController().signal };
  const status = await benchCommand.run(args, io);
  return { status, stdout: out, stderr: err };
}

test('HTTP API publisher: 20 connections, every publication reaches all 20', async () => {
  const run = await bench([node.url, '-c', '20', '--rate', '100/s', '--api', node.base, '--api-key', KEY, '-m', '10/s', '-d', '2s', '--json']);
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout) as BenchResult;
  assert.equal(r.publisher, 'http-api');
  assert.deepEqual(r.connections, { requested: 20, opened: 20, joined: 20, failed: 0, failedByCode: {}, dropped: 0 });
  assert.equal(r.connectMs.count, 20);
  assert.deepEqual(r.messages, { published: 20, failed: 0, failedByCode: {} }); // 10/s for 2 s
  assert.equal(r.deliveries.expected, 20 * 20);
  assert.equal(r.deliveries.count, 20 * 20);
  assert.equal(r.deliveries.perMessage, 20);
  assert.equal(r.latencyMs.count, 400, 'every delivery carried its send time');
  // stderr is not a terminal here: progress comes as plain lines.
  assert.match(run.stderr, /^\[\d+\.\d+s (ramp|publish|drain)\] connections \d+\/20 joined \d+ failed 0 \| published \d+ \| delivered \d+/m);
  assert.doesNotMatch(run.stderr, /\r/);
});

test('emit publisher and an app-level join request; the readable summary table', async () => {
  const run = await bench([node.url, '-c', '5', '--join-event', 'enter', '--room', 'stage', '--emit', 'shout', '--event', 'heard', '-m', '5/s', '-d', '1s']);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.map((l) => l.split(/\s{2,}/)[0]), ['server', 'connections', 'connect time', 'messages', 'deliveries', 'latency']);
  assert.match(run.stdout, /^connections +opened 5\/5 +joined 5 +failed 0 +dropped 0$/m);
  assert.match(run.stdout, /^messages +published 5 +failed 0$/m);
  assert.match(run.stdout, /^deliveries +25 +\d+\/s +5 per message$/m);
});

test('failures are counted by code and make the exit status 1', async () => {
  const refused = await bench([node.url, '-c', '3', '--auth', '{"name":"nobody"}', '-d', '1s', '--json']);
  assert.equal(refused.status, 1);
  const r = JSON.parse(refused.stdout) as BenchResult;
  assert.deepEqual(r.connections, { requested: 3, opened: 0, joined: 0, failed: 3, failedByCode: { who_are_you: 3 }, dropped: 0 });

  const badKey = await bench([node.url, '-c', '2', '--api', node.base, '--api-key', 'wrong', '-m', '4/s', '-d', '1s', '--json']);
  assert.equal(badKey.status, 1);
  assert.deepEqual((JSON.parse(badKey.stdout) as BenchResult).messages, { published: 0, failed: 4, failedByCode: { unauthorized: 4 } });
});

test('an HTTP API that never answers: each publication fails with timeout after --timeout, the run ends, exit 1', async () => {
  const run = await bench([node.url, '-c', '2', '--api', silentBase, '--api-key', KEY, '-m', '4/s', '-d', '1s', '--timeout', '300ms', '--json']);
  assert.equal(run.status, 1, run.stderr);
  const r = JSON.parse(run.stdout) as BenchResult;
  assert.deepEqual(r.connections, { requested: 2, opened: 2, joined: 2, failed: 0, failedByCode: {}, dropped: 0 });
  assert.deepEqual(r.messages, { published: 0, failed: 4, failedByCode: { timeout: 4 } });
  assert.equal(r.deliveries.count, 0);
});

test('the API key from SWITCHBOARD_API_KEY when --api-key is absent; --api-key wins over it', async () => {
  const fromEnv = await bench([node.url, '-c', '2', '--api', node.base, '-m', '4/s', '-d', '1s', '--json'], { SWITCHBOARD_API_KEY: KEY });
  assert.equal(fromEnv.status, 0, fromEnv.stderr);
  assert.deepEqual((JSON.parse(fromEnv.stdout) as BenchResult).messages, { published: 4, failed: 0, failedByCode: {} });

  silentRequests.length = 0;
  await bench([node.url, '-c', '1', '--api', silentBase, '--api-key', 'flag-key', '-m', '2/s', '-d', '1s', '--timeout', '200ms', '--json'], { SWITCHBOARD_API_KEY: 'env-key' });
  assert.deepEqual(silentRequests, [{ authorization: 'Bearer flag-key' }, { authorization: 'Bearer flag-key' }]);
});

test('usage errors exit 2 with one line saying what is wrong', async () => {
  for (const [args, message] of [
    [[], /the server URL is missing/],
    [[node.url, '-c', '0'], /--connections is a whole number from 1/],
    [[node.url, '--rate', 'fast'], /--rate is a rate per second like 200\/s/],
    [[node.url, '--api', node.base], /^switchboard bench: --api needs its key: set SWITCHBOARD_API_KEY \(kept out of ps\) or give --api-key KEY$/m],
    [[node.url, '--api-key', KEY], /--api-key is the key for --api: give --api URL too/],
    [[node.url, '--auth', 'secret-token'], /--auth takes the hello's auth payload as JSON, .* unexpected character at position 0$/m],
    [[node.url, '--api', node.base, '--api-key', 'k', '--emit', 'x'], /--api and --emit are two ways to publish/],
    [[node.url, '-d', 'forever'], /--duration takes a duration such as 75s, 500ms or 2m; got "forever"/],
  ] as const) {
    const run = await bench([...args]);
    assert.equal(run.status, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /secret-token/, 'an --auth value is never echoed');
  }
});
