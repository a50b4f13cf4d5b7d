import { build } from 'esbuild';
import { basename } from 'node:path';

/** Page scripts and their source maps, by the path they are served at: `/editor.js`, `/editor.js.map`. */
export type PageScripts = ReadonlyMap<string, Uint8Array>;

/** Pages to bundle: the name each is served as (`editor` → `/editor.js`) → its TypeScript entry file. */
export type PageEntries = Readonly<Record<string, string>>;

const bundles = new Map<string, Promise<PageScripts>>();

/**
 * Bundle page scripts (each with what it imports: the client SDK, yjs, ...) for browsers with
 * esbuild, in memory, as scripts/build-browser-client.mjs does for the client;
 * `platform: 'browser'` also proves they import nothing from Node. Once per process per set of
 * entries: servers started by the same test file share the result, and a failed build is
 * tried again by the next call.
 */
export function bundlePages(entries: PageEntries): Promise<PageScripts> {
  const key = JSON.stringify(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
  let bundling = bundles.get(key);
  if (bundling) return bundling;
  bundling = build({
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
  }).then((result) => {
    const scripts = new Map(result.outputFiles.map((file) => [`/${basename(file.path)}`, file.contents]));
    for (const name of Object.keys(entries)) {
      if (!scripts.has(`/${name}.js`) || !scripts.has(`/${name}.js.map`)) throw new Error(`esbuild produced no ${name}.js and its map`);
    }
    return scripts;
  });
  bundles.set(key, bundling);
  bundling.catch(() => bundles.delete(key));
  return bundling;
}
