import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

/** What one in-process run of the command line printed, and its exit status. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run `switchboard ...argv` in-process through main(), with captured streams and no stdin. */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const stdin = new PassThrough();
  stdin.end();
  const io: CliIo = { stdin, stdout, stderr, env, signal: new AbortController().signal };
  const status = await main(argv, io);
  return { status, stdout: out, stderr: err };
}
