#!/usr/bin/env node
// The `switchboard` command (package.json "bin"). In a checkout of the repository (src/ is
// there and tsx is installed) it runs the TypeScript sources, so it is never a stale build;
// from the published package, the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
const status = await cli.main(process.argv.slice(2), cli.processIo());
process.exitCode = status;
// A command has closed what it opened; should a library still hold the loop, do not hang.
setTimeout(() => process.exit(status), 2000).unref();
