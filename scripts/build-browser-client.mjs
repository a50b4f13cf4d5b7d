// Bundles the client SDK for browsers: one ESM file with no Node built-ins, which the
// server serves at /switchboard/client.js (brotli or gzip: src/server/client-bundle.ts) so a
// page can import it with no build step. `--analyze` prints what each module weighs.
// Its size is documented in README.md and docs/API.md; test/integration/client-bundle.test.ts
// fails when the build outgrows it.
import { analyzeMetafile, build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const analyze = process.argv.includes('--analyze');

const result = await build({
  entryPoints: [new URL('../src/client/index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/browser/switchboard-client.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Class fields stay native (every browser with ES modules and WebSocket has had them since
  // 2021), instead of esbuild's helper calls for each one.
  target: 'es2022',
  minify: true,
  // Unused code goes (esbuild's default when bundling, stated so that it stays).
  treeShaking: true,
  sourcemap: true,
  legalComments: 'none',
  banner: { js: `/* switchboard client ${version} — protocol switchboard.v1 */` },
  metafile: analyze,
  logLevel: 'warning',
});
if (analyze) console.log(await analyzeMetafile(result.metafile, { verbose: false }));
