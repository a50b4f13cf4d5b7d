import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What was measured and where: the commit and whether the tree differed from it, versions, the machine. */
export interface RunMeta {
  date: string;
  commit: string;
  /** `git status --porcelain` lines: changes in the measured tree that the commit does not have. */
  uncommitted: string[];
  node: string;
  versions: Record<string, string>;
  /** ws's optional native add-ons; absent means ws's JavaScript masking and UTF-8 validation. */
  nativeAddons: string[];
  cpu: string;
  cores: number;
  argv: string[];
  /** Wall-clock time of the whole run. */
  durationSeconds?: number;
}

export function collectMeta(argv: string[]): RunMeta {
  const git = (...args: string[]): string => {
    try {
      // --no-optional-locks: reading the status must not rewrite the index under other work.
      return execFileSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const version = (pkg: string): string => {
    const file = `${ROOT}node_modules/${pkg}/package.json`;
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'absent';
  };
  return {
    date: new Date().toISOString(),
    commit: git('rev-parse', 'HEAD') || 'unknown',
    uncommitted: git('status', '--porcelain').split('\n').filter(Boolean),
    node: process.version,
    versions: { ws: version('ws'), 'socket.io': version('socket.io'), 'engine.io': version('engine.io'), tsx: version('tsx') },
    nativeAddons: ['bufferutil', 'utf-8-validate'].filter((m) => existsSync(`${ROOT}node_modules/${m}`)),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    argv,
  };
}
