/**
 * `switchboard serve`: a standalone Switchboard server from a JSON config file, environment
 * variables and flags (docs/OPERATIONS.md, "switchboard serve"). Config errors are one line
 * naming the key and exit 2 before anything listens; SIGINT/SIGTERM close it gracefully
 * and exit 0.
 */
import type { CliIo, Command } from '../command.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../command.js';
import { ConfigError } from './config-reader.js';
import { UsageError } from '../usage.js';
import { loadConfigLayers, OVERRIDES } from './config-sources.js';
import { resolveServeConfig, type ServeConfig, type SourceOf } from './serve-config.js';
import { ServeLog } from './serve-log.js';
import { type StandaloneServer, StartupError, startStandaloneServer } from './standalone-server.js';

/** Milliseconds request handlers get to finish on SIGINT/SIGTERM (Switchboard's close deadline). */
const SHUTDOWN_DEADLINE_MS = 5000;

function help(): string {
  const flags = OVERRIDES.filter((o) => o.flag !== undefined).map((o) => {
    const name = `${o.short ? `-${o.short}, ` : '    '}--${o.flag}${o.kind === 'boolean' || o.kind === 'switch' ? '' : ' <value>'}`;
    const repeat = o.kind === 'list' || o.kind === 'origins' ? ' (repeatable)' : '';
    return `  ${name.padEnd(30)} ${o.key}${repeat}`;
  });
  const env = OVERRIDES.map((o) => `  ${o.env.join(', ').padEnd(34)} ${o.key}`);
  return [
    'Usage: switchboard serve [--config switchboard.json] [options]',
    '',
    'A standalone Switchboard server: WebSocket (and SSE/long-polling) clients, JWT auth,',
    'the publish HTTP API, Redis, durable rooms, a static folder, Prometheus metrics and the',
    'admin dashboard, from a JSON config file.',
    'Flags override environment variables, which override the file.',
    '',
    'Options (each sets the config key on its right):',
    `  ${'-c, --config <file>'.padEnd(30)} the JSON config file (or SWITCHBOARD_CONFIG)`,
    ...flags,
    '',
    'Environment variables (lists are comma-separated):',
    ...env,
    '',
    'Examples:',
    '  switchboard serve --port 8080 --static ./public',
    '  SWITCHBOARD_JWT_SECRET=... SWITCHBOARD_API_KEYS=... switchboard serve -c switchboard.json',
    '  switchboard serve -c switchboard.json --redis redis://127.0.0.1:6379 --durable "chat:*"',
    '',
    'Every key: docs/OPERATIONS.md, "switchboard serve". Exit status: 0 after a graceful',
    'shutdown, 1 when the server could not start, 2 for a bad flag or config.',
    '',
  ].join('\n');
}

function configError(io: CliIo, err: ConfigError, sourceOf: SourceOf | undefined): number {
  const where = err.key === '' || sourceOf === undefined ? '' : `${sourceOf(err.key).label}: `;
  io.stderr.write(`switchboard serve: ${where}${err.message}\n`);
  return EXIT_USAGE;
}

async function run(args: string[], io: CliIo): Promise<number> {
  let config: ServeConfig;
  let sourceOf: SourceOf | undefined;
  try {
    const layers = loadConfigLayers(args, io.env, process.cwd());
    sourceOf = layers.sourceOf;
    config = resolveServeConfig(layers.raw, layers.sourceOf);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`switchboard serve: ${err.message}\n(switchboard serve --help lists the options)\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) return configError(io, err, sourceOf);
    throw err;
  }

  const log = new ServeLog(io, config.log.format, config.log.level);
  let server: StandaloneServer;
  try {
    server = await startStandaloneServer(config, log);
  } catch (err) {
    if (err instanceof ConfigError) return configError(io, err, sourceOf);
    if (err instanceof StartupError) {
      log.error({}, err.message);
      return EXIT_FAILED;
    }
    throw err;
  }
  // A person reads the URLs in the message; a log collector gets them as fields too.
  for (const line of server.summary()) log.info(config.log.format === 'json' ? line.fields : {}, line.message);

  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info({}, 'shutting down');
  try {
    await server.close(SHUTDOWN_DEADLINE_MS);
  } catch (err) {
    log.error({ err }, 'shutdown failed');
    return EXIT_FAILED;
  }
  log.info({}, 'closed');
  return EXIT_OK;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run a standalone server from a config file: JWT auth, the publish HTTP API, Redis, a static folder, metrics',
  get help() {
    return help();
  },
  run,
};
