// The first step of `npm test`: what the tests need that npm cannot install. Browser tests
// drive Debian's Chromium, proxy tests run Debian's nginx, cluster tests need redis-server
// (they start private instances too) and a Redis answering on 127.0.0.1:6379, TLS tests make
// certificates with openssl. On a fresh machine where we are root with apt-get, install what
// is missing and start Redis; otherwise stop at once with the one command to run, instead of
// letting forty tests fail one by one minutes later.
//
// Environment (the tests of this script use it to fake a machine):
//   CHROMIUM_BINARY, NGINX_BINARY, REDIS_SERVER  where the tests look for each program
//   REDIS_URL                                    the Redis the cluster tests use
//   TEST_PREREQ_UID                              the user id to act as (0: root)
//   TEST_PREREQ_POLICY_RC_D                      the policy-rc.d that keeps installed services stopped
// apt-get, sudo and openssl are looked up on PATH.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

const env = process.env;
const REDIS_URL = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const REDIS_HOST = REDIS_URL.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
const REDIS_PORT = Number(REDIS_URL.port || 6379);
const POLICY_RC_D = env.TEST_PREREQ_POLICY_RC_D ?? '/usr/sbin/policy-rc.d';
const uid = env.TEST_PREREQ_UID !== undefined ? Number(env.TEST_PREREQ_UID) : process.getuid?.();

/** What the tests need, where they look for it, and the Debian package that brings it. */
const programs = [
  { name: 'Chromium', path: env.CHROMIUM_BINARY ?? '/usr/bin/chromium', pkg: 'chromium', why: 'browser tests' },
  { name: 'nginx', path: env.NGINX_BINARY ?? '/usr/sbin/nginx', pkg: 'nginx', why: 'proxy tests' },
  { name: 'redis-server', path: env.REDIS_SERVER ?? '/usr/bin/redis-server', pkg: 'redis-server', why: 'cluster tests' },
  { name: 'openssl', command: 'openssl', pkg: 'openssl', why: 'TLS tests' },
];

/** Where a program is, or undefined: a fixed path, or found on PATH. */
function locate(program) {
  if (program.path) return isExecutable(program.path) ? program.path : undefined;
  return onPath(program.command);
}

function isExecutable(path) {
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function fail(message) {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

/** Whether something answers the Redis protocol at the tests' address (any reply counts: auth is the tests' business). */
function redisAnswers(timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host: REDIS_HOST, port: REDIS_PORT });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => done(chunk[0] === 0x2b /* + */ || chunk[0] === 0x2d /* - */));
  });
}

/** Install Debian packages with the services they ship kept stopped (as a container without systemd needs). */
function aptInstall(aptGet, packages) {
  console.log(`npm test: installing ${packages.join(' ')} with apt-get (what the tests need that npm cannot bring)`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Without systemd, invoke-rc.d starts each package's service (nginx on port 80, a Redis with
  // persistence) unless policy-rc.d answers 101; the tests run their own instances.
  const ownPolicy = !existsSync(POLICY_RC_D);
  const dropPolicy = () => {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  };
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  process.once('exit', dropPolicy);
  // apt-get gets the same Ctrl-C; let it stop, then leave through fail() and the exit hook.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => {});
  try {
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
      const run = spawnSync(aptGet, args, { env: aptEnv, stdio: ['ignore', 'ignore', 'inherit'] });
      if (run.status !== 0) fail(`npm test: \`apt-get ${args.join(' ')}\` failed (${run.error?.message ?? `exit ${run.status}`}).`);
    }
  } finally {
    dropPolicy();
  }
}

/** A Redis of the tests' own on loopback: no persistence, gone with the machine. */
async function startRedis(redisServer) {
  console.log(`npm test: starting redis-server on ${REDIS_HOST}:${REDIS_PORT} (no persistence)`);
  const args = ['--daemonize', 'yes', '--bind', REDIS_HOST, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no'];
  const run = spawnSync(redisServer, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) return false;
  for (let tries = 0; tries < 50; tries++) {
    if (await redisAnswers(200)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const missing = programs.filter((program) => !locate(program));
if (missing.length > 0) {
  const packages = missing.map((program) => program.pkg);
  const aptGet = onPath('apt-get');
  const what = missing.map((program) => `${program.name} ${program.path ? `at ${program.path}` : 'on PATH'} (${program.why})`).join(', ');
  if (uid === 0 && aptGet) {
    aptInstall(aptGet, packages);
    const still = missing.filter((program) => !locate(program));
    if (still.length > 0) fail(`npm test: apt-get installed ${packages.join(' ')}, yet ${still.map((program) => program.path ?? program.name).join(', ')} is still missing.`);
  } else if (aptGet) {
    const install = `apt-get install -y ${packages.join(' ')}`;
    const command = onPath('sudo') ? `sudo ${install}` : `su -c '${install}'`;
    fail(`npm test needs ${what}. Install with:\n\n  ${command}\n\nthen run npm test again.`);
  } else {
    fail(`npm test needs ${what}. Install the Debian/Ubuntu packages ${packages.join(' ')} (or their equivalents at those paths), then run npm test again.`);
  }
}

if (!(await redisAnswers())) {
  const local = ['127.0.0.1', 'localhost', '::1'].includes(REDIS_HOST);
  const redisServer = locate(programs.find((program) => program.pkg === 'redis-server'));
  const command = `redis-server --daemonize yes --bind ${REDIS_HOST} --port ${REDIS_PORT} --save '' --appendonly no`;
  if (!local) fail(`npm test needs the Redis at ${REDIS_URL.href} (REDIS_URL) to answer, and it does not.`);
  if (!(await startRedis(redisServer))) fail(`npm test needs a Redis on ${REDIS_HOST}:${REDIS_PORT} and could not start one. Start it with:\n\n  ${command}`);
}

console.log(`npm test: Chromium, nginx, redis-server, openssl and Redis on ${REDIS_HOST}:${REDIS_PORT} are ready`);
