/**
 * One subcommand of the `switchboard` command line. Commands write through `io` (never
 * process.stdout directly) and return their exit status, so tests run them in-process as
 * well as through the real binary.
 */
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT / SIGTERM: long-running commands (connect, serve, bench) stop and return. */
  signal: AbortSignal;
}

export interface Command {
  /** The word after `switchboard`. */
  name: string;
  /** One line for `switchboard --help`. */
  summary: string;
  /** The command's own help (`switchboard <name> --help`): usage line, options, examples. */
  help: string;
  /** Run with the arguments after the command's name; resolves with the exit status (0 ok, 1 failed check, 2 bad usage). */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit statuses every command uses. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
