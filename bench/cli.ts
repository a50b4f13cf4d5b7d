// What every benchmark runner's command line shares: its arguments, a progress log with the
// seconds since start, the repository root, the results file, and the process exit code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runner's arguments (after `node … run.ts`). */
export const args = process.argv.slice(2);

/** The value of `--name=value`, or undefined. */
export function option(name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

const t0 = Date.now();

/** A progress line on stderr, with the seconds since the runner started (stdout keeps the report). */
export function log(line: string): void {
  console.error(`${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s ${line}`);
}

/** Write a results file (its folder made if missing) and say where it went. */
export function writeResults(file: string, results: unknown, indent = 1): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, indent)}\n`);
  log(`results: ${file}`);
}

/** Run the runner's main(): exit 0 when it resolves, print the error and exit 1 when it rejects. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
