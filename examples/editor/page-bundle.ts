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
 * Bundle the page script (CodeMirror, yjs, the client SDK and the document provider) for
 * browsers with esbuild, as scripts/build-browser-client.mjs does for the client. Once per
 * process: servers started by the same test file share the result.
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
    outdir: 'editor',
    entryNames: 'editor',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  }).then((result) => {
    const script = result.outputFiles.find((file) => file.path.endsWith('.js'));
    const sourceMap = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
    if (!script || !sourceMap) throw new Error('esbuild produced no editor.js');
    return { script: script.contents, sourceMap: sourceMap.contents };
  });
  bundling.catch(() => {
    bundling = undefined;
  });
  return bundling;
}
