import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./page/main.ts', import.meta.url));

/** The page script and its source map, bundled in memory. */
export interface PageBundle {
  script: Uint8Array;
  sourceMap: Uint8Array;
}

let bundling: Promise<PageBundle> | undefined;

/**
 * Bundle the page script (the client SDK and the token-stream reader) for browsers with
 * esbuild, as the editor does. `platform: 'browser'` also proves the reader has no Node
 * imports. Once per process: servers started by the same test file share the result.
 */
export function bundlePage(): Promise<PageBundle> {
  bundling ??= build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    outdir: 'assistant',
    entryNames: 'assistant',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  }).then((result) => {
    const script = result.outputFiles.find((file) => file.path.endsWith('.js'));
    const sourceMap = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
    if (!script || !sourceMap) throw new Error('esbuild produced no assistant.js');
    return { script: script.contents, sourceMap: sourceMap.contents };
  });
  bundling.catch(() => {
    bundling = undefined;
  });
  return bundling;
}
