/**
 * `switchboard <command> [options]`: the command line (package.json `bin`). Dispatches to
 * the commands; each parses its own options (node:util parseArgs) and returns its exit status.
 */
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { benchCommand } from './bench/command.js';
import type { CliIo, Command } from './command.js';
import { EXIT_OK, EXIT_USAGE } from './command.js';
import { connectCommand } from './connect/command.js';
import { doctorCommand } from './doctor/command.js';
import { serveCommand } from './serve/command.js';

export const COMMANDS: readonly Command[] = [doctorCommand, connectCommand, serveCommand, benchCommand];

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: switchboard <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'switchboard <command> --help   the command\'s options and examples',
    'switchboard --version          the version',
    '',
  ].join('\n');
}

/** Run the command line with `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`switchboard: unknown command "${name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command.help);
    return EXIT_OK;
  }
  return command.run(args, io);
}

/**
 * The process's own streams and signals. The first SIGINT or SIGTERM aborts `signal`, so
 * the command stops gracefully (serve closes its clients, bench prints its summary); any
 * later one, of either kind, ends the process at once with 128 + the signal's number (130,
 * 143), as a shell reports a process killed by it: a person pressing Ctrl-C again, or a
 * supervisor that has waited long enough, is not kept waiting for the graceful path.
 */
export function processIo(): CliIo {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) controller.abort();
    else process.exit(128 + (osConstants.signals[signal] ?? 0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
}
