// Checks the published type surface against the reviewed reports in api/ (one per entry point
// of package.json `exports`), or with --update accepts the current surface into them.
// The declarations are built afresh, with the settings of `npm run build` (tsconfig.build.json),
// into temp/api/dts: a stale file left in dist/ by an earlier build must not hide or fake a change.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
const dts = join(root, 'temp', 'api', 'dts');

rmSync(dts, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', dts], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  process.exit(1);
}

/** Report name for each subpath export that publishes types. */
const REPORT_NAMES = {
  '.': 'server',
  './client': 'client',
  './protocol': 'protocol',
  './redis': 'redis',
  // switchboard/yjs (the document host and its stores)
  './yjs': 'yjs',
  './yjs/sqlite': 'yjs-sqlite',
  './yjs/redis': 'yjs-redis',
  // switchboard/yjs/client (the document provider)
  './yjs/client': 'yjs-client',
  // switchboard/http-api (the publish HTTP API for backends)
  './http-api': 'http-api',
  // switchboard/token-streams (resumable token streams) and its client
  './token-streams': 'token-streams',
  './token-streams/client': 'token-streams-client',
  // switchboard/metrics (Prometheus metrics through prom-client)
  './metrics': 'metrics',
  // switchboard/admin (the live admin dashboard)
  './admin': 'admin',
};

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([subpath, target]) => {
    const name = REPORT_NAMES[subpath];
    if (!name) throw new Error(`package.json exports "${subpath}" has types but no API report name in scripts/api-report.mjs`);
    // "./dist/server/index.d.ts" → temp/api/dts/server/index.d.ts
    return { name, dts: join(dts, relative('dist', target.types)) };
  });

let failed = false;

// stripInternal (tsconfig.build.json) must have removed every @internal declaration; it
// cannot strip a constructor's parameter property, for one.
for (const file of declarationFiles(dts)) {
  if (readFileSync(file, 'utf8').includes('@internal')) {
    console.error(`api: ${relative(dts, file)} (published as dist/${relative(dts, file)}) still carries an @internal declaration`);
    failed = true;
  }
}

const base = ExtractorConfig.loadFile(join(root, 'api-extractor.json'));
const configFor = (entry) =>
  ExtractorConfig.prepare({
    configObject: {
      ...base,
      mainEntryPointFilePath: entry.dts,
      apiReport: { ...base.apiReport, reportFileName: `${entry.name}.api.md` },
    },
    configObjectFullPath: join(root, 'api-extractor.json'),
    packageJsonFullPath: join(root, 'package.json'),
  });

// One compiler program for all entry points: analysing each alone would cost four builds.
const compilerState = CompilerState.create(configFor(entries[0]), {
  additionalEntryPoints: entries.map((entry) => entry.dts),
});
for (const entry of entries) {
  let result;
  try {
    result = Extractor.invoke(configFor(entry), { localBuild: update, compilerState, showVerboseMessages: false });
  } catch (err) {
    // API Extractor crashes instead of reporting an import of something stripInternal removed.
    console.error(`api: could not analyse "${entry.name}": ${err.message}`);
    console.error('api: is a declaration the published types use marked @internal?');
    process.exit(1);
  }
  if (!result.succeeded) {
    failed = true;
    if (result.apiReportChanged && !update) {
      console.error(`api: the public API of "${entry.name}" changed; review it and run \`npm run api:update\` to accept it into api/${entry.name}.api.md`);
    }
  }
}
if (failed) process.exit(1);
console.log(update ? `api: reports updated in api/` : `api: ${entries.length} reports match`);

function* declarationFiles(dir) {
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    if (item.isDirectory()) yield* declarationFiles(path);
    else if (item.name.endsWith('.d.ts')) yield path;
  }
}
