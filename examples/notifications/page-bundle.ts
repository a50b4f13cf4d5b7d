import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** The two page scripts, by the path they are served at. */
export type PageScripts = ReadonlyMap<string, Uint8Array>;

const entries = {
  seller: fileURLToPath(new URL('./page/seller.ts', import.meta.url)),
  buyer: fileURLToPath(new URL('./page/buyer.ts', import.meta.url)),
};

let bundling: Promise<PageScripts> | undefined;

/**
 * Bundle the seller and buyer pages (each with the client SDK) for browsers with esbuild, in
 * memory, once per process: served at `/seller.js` and `/buyer.js` (and their `.map`).
 */
export function bundlePages(): Promise<PageScripts> {
  bundling ??= build({
    entryPoints: entries,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    outdir: 'pages',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  }).then((result) => new Map(result.outputFiles.map((file) => [`/${file.path.split('/').pop()}`, file.contents])));
  bundling.catch(() => {
    bundling = undefined;
  });
  return bundling;
}
