// Bundles the client SDK for browsers: one ESM file with no Node built-ins, which the
// server serves at /switchboard/client.js so a page can import it with no build step.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('../src/client/index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/browser/switchboard-client.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  banner: { js: `/* switchboard client ${version} — protocol switchboard.v1 */` },
  logLevel: 'warning',
});
