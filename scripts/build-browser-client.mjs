// Bundles the client SDK for browsers: ESM with no Node built-ins, which the server serves at
// /switchboard/client.js (brotli or gzip: src/server/client-bundle.ts) so a page can import it
// with no build step. `--analyze` prints what each module weighs.
//
// Two files, so that a page whose WebSocket works downloads only the first:
// - dist/browser/switchboard-client.js, the client;
// - dist/browser/chunks/fallback-<hash>.js, the SSE and long-polling transports and the
//   upgrade probe (src/client/fallback-transports.ts), which the client imports the first
//   time it needs one (src/client/fallback-loader.ts). Its name has a hash of its content, so
//   the server can let browsers keep it for good.
// Not esbuild's code splitting: it would move the modules both files use into a third file
// that the client imports before it runs, a second request on every page. Here the chunk
// carries its own copy of the few stateless modules it shares with the client (checked below).
//
// The sizes are documented in README.md and docs/API.md; test/integration/client-bundle.test.ts
// fails when the build outgrows them.
import { analyzeMetafile, build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const analyze = process.argv.includes('--analyze');
const src = (path) => new URL(`../src/${path}`, import.meta.url).pathname;
const outdir = new URL('../dist/browser/', import.meta.url).pathname;

/**
 * Modules the chunk may carry a copy of: constants and pure functions, without state or a
 * class an app could test with instanceof (a second SwitchboardError class would break
 * `err instanceof SwitchboardError`).
 */
const SHAREABLE = new Set(['src/protocol/close-codes.ts', 'src/protocol/error-codes.ts', 'src/protocol/codec.ts', 'src/protocol/nesting.ts', 'src/client/timers.ts']);

const common = {
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
  metafile: true,
  logLevel: 'warning',
};

// A chunk of an earlier build would be served (and shipped) for nothing.
rmSync(new URL('chunks/', `file://${outdir}`), { recursive: true, force: true });

const chunk = await build({
  ...common,
  entryPoints: { fallback: src('client/fallback-transports.ts') },
  outdir: `${outdir}chunks`,
  entryNames: '[name]-[hash]',
});
const chunkFile = Object.keys(chunk.metafile.outputs).find((path) => path.endsWith('.js'));
const chunkImport = `./chunks/${basename(chunkFile)}`;

const main = await build({
  ...common,
  entryPoints: [src('client/index.ts')],
  outfile: `${outdir}switchboard-client.js`,
  plugins: [
    {
      name: 'fallback-chunk',
      setup(on) {
        // The loader's import() becomes a request for the chunk, relative to the client module.
        on.onResolve({ filter: /^\.\/fallback-transports\.js$/ }, (args) =>
          args.kind === 'dynamic-import' ? { path: chunkImport, external: true } : undefined,
        );
      },
    },
  ],
});

const inputs = (result) => new Set(Object.values(result.metafile.outputs).flatMap((output) => Object.keys(output.inputs)));
const mainInputs = inputs(main);
const copied = [...inputs(chunk)].filter((path) => mainInputs.has(path));
const unsafe = copied.filter((path) => !SHAREABLE.has(path));
if (unsafe.length > 0) {
  console.error(
    `build-browser-client: the fallback chunk would carry its own copy of ${unsafe.join(', ')}, which the client has too. ` +
      'Pass what it needs in from the client instead, or add the module to SHAREABLE if it has no state and no class.',
  );
  process.exit(1);
}
if (!mainInputs.has('src/client/fallback-loader.ts') || [...mainInputs].some((path) => inputs(chunk).has(path) && !SHAREABLE.has(path))) {
  console.error('build-browser-client: the client does not load the fallback chunk as expected');
  process.exit(1);
}

if (analyze) {
  console.log('dist/browser/switchboard-client.js, what every page loads:');
  console.log(await analyzeMetafile(main.metafile, { verbose: false }));
  console.log(`dist/browser/chunks/${basename(chunkFile)}, loaded where WebSocket fails (shared with the client: ${copied.join(', ') || 'nothing'}):`);
  console.log(await analyzeMetafile(chunk.metafile, { verbose: false }));
}
