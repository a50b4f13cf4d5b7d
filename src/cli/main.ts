/**
 * `switchboard <command> [options]`: the command line (package.json `bin`). Dispatches to
 * the commands; each parses its own options (node:util parseArgs) and returns its exit status.
 */
import { readFileSync } from 'node:fs';
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

/** The process's own streams and signals. */
export function processIo(): CliIo {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
}
