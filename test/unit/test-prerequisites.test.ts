/**
 * scripts/test-prerequisites.mjs, the first step of `npm test`, on a faked machine: programs
 * are shell scripts in a temp dir (PATH holds nothing else), apt-get and redis-server are fakes
 * that log what they were asked, and "Redis" is a socket of this test that answers PING.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-prerequisites.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fake Redis: answers +PONG and counts who asked. */
let redis: Server;
let redisPort: number;
let redisPings = 0;
before(async () => {
  redis = createServer((socket) => {
    socket.on('data', () => {
      redisPings++;
      socket.end('+PONG\r\n');
    });
  });
  await new Promise<void>((resolve) => redis.listen(0, '127.0.0.1', resolve));
  redisPort = (redis.address() as { port: number }).port;
});
after(() => redis.close());

/** A machine with every program the tests need, all fakes under one temp dir. */
let machine: string;
let bin: string;
let log: string;
beforeEach(() => {
  machine = mkdtempSync(join(tmpdir(), 'switchboard-prereq-'));
  bin = join(machine, 'bin');
  log = join(machine, 'log');
  mkdirSync(bin);
  writeFileSync(log, '');
  for (const name of ['chromium', 'nginx', 'redis-server', 'openssl']) program(name, 'exit 0');
  redisPings = 0;
});
afterEach(() => rmSync(machine, { recursive: true, force: true }));

/** An executable shell script at bin/<name>; `$LOG` in the body is the log file. */
function program(name: string, body: string): string {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\nLOG='${log}'\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function removeProgram(name: string): void {
  rmSync(join(bin, name));
}

function machineEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: bin,
    CHROMIUM_BINARY: join(bin, 'chromium'),
    NGINX_BINARY: join(bin, 'nginx'),
    REDIS_SERVER: join(bin, 'redis-server'),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    TEST_PREREQ_UID: '1000',
    TEST_PREREQ_POLICY_RC_D: join(machine, 'policy-rc.d'),
    ...overrides,
  };
}

function logged(): string[] {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('test prerequisites', () => {
  test('everything present: succeeds without apt-get, after asking Redis', async () => {
    program('apt-get', 'echo "apt-get $*" >> "$LOG"');
    const run = await runScript(machineEnv());
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /are ready/);
    assert.deepEqual(logged(), []);
    assert.equal(redisPings, 1);
  });

  test('a program missing, not root: stops at once with the one command, installs and asks nothing', async () => {
    program('apt-get', 'echo "apt-get $*" >> "$LOG"');
    program('sudo', 'echo "sudo $*" >> "$LOG"');
    removeProgram('chromium');
    removeProgram('nginx');
    const run = await runScript(machineEnv());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^ {2}sudo apt-get install -y chromium nginx$/m);
    assert.match(run.stderr, /Chromium at .*\/bin\/chromium \(browser tests\)/);
    assert.deepEqual(logged(), [], 'nothing was run');
    assert.equal(redisPings, 0, 'it stopped before looking at Redis');
  });

  test('a program missing, no apt-get: names the packages and fails', async () => {
    removeProgram('openssl');
    const run = await runScript(machineEnv({ TEST_PREREQ_UID: '0' }));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /openssl on PATH \(TLS tests\)/);
    assert.match(run.stderr, /packages openssl/);
  });

  test('a program missing, root with apt-get: installs it non-interactively with services kept stopped', async () => {
    const policy = join(machine, 'policy-rc.d');
    // The fake apt-get "installs" by creating the programs, and logs what a real one would see.
    program(
      'apt-get',
      [
        'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "$LOG"',
        `if [ -x '${policy}' ]; then while read -r line; do last="$line"; done < '${policy}'; echo "policy: $last" >> "$LOG"; fi`,
        'if [ "$1" = install ]; then',
        `  for p in chromium nginx; do printf '#!/bin/sh\\n' > '${bin}'/$p; /bin/chmod +x '${bin}'/$p; done`,
        'fi',
      ].join('\n'),
    );
    removeProgram('chromium');
    removeProgram('nginx');
    const run = await runScript(machineEnv({ TEST_PREREQ_UID: '0' }));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(logged(), [
      'apt-get update -qq DEBIAN_FRONTEND=noninteractive',
      'policy: exit 101',
      'apt-get install -y -qq chromium nginx DEBIAN_FRONTEND=noninteractive',
      'policy: exit 101',
    ]);
    assert.equal(existsSync(policy), false, 'its own policy-rc.d is removed again');
    assert.equal(redisPings, 1);
  });

  test('an existing policy-rc.d is left alone', async () => {
    const policy = join(machine, 'policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    program('apt-get', `if [ "$1" = install ]; then printf '#!/bin/sh\\n' > '${bin}/nginx'; /bin/chmod +x '${bin}/nginx'; fi`);
    removeProgram('nginx');
    const run = await runScript(machineEnv({ TEST_PREREQ_UID: '0' }));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(policy, 'utf8'), '#!/bin/sh\nexit 0\n');
  });

  test('Redis not answering: starts a loopback redis-server without persistence, or gives its command', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    program('redis-server', 'echo "redis-server $*" >> "$LOG"; exit 1');
    const run = await runScript(machineEnv({ REDIS_URL: `redis://127.0.0.1:${closed}` }));
    assert.equal(run.code, 1);
    assert.deepEqual(logged(), [`redis-server --daemonize yes --bind 127.0.0.1 --port ${closed} --save  --appendonly no`]);
    assert.match(run.stderr, new RegExp(`redis-server --daemonize yes --bind 127\\.0\\.0\\.1 --port ${closed} --save '' --appendonly no`));
  });
});
