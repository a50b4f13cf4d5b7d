/**
 * switchboard/token-streams/client must bundle for browsers: esbuild, platform 'browser',
 * with no Node built-in among its inputs and nothing of the server side (the producer, the
 * server, the Redis cluster) pulled in.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { build } from 'esbuild';

test('the reader bundles for browsers from the client and protocol layers only', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../../src/token-streams/client/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((file) => file.endsWith('token-streams/client/token-stream-reader.ts')));
  const outside = inputs.filter((file) => !/^src\/(protocol|token-streams\/client)\/|^src\/token-streams\/wire\.ts$/.test(file));
  assert.deepEqual(outside, [], 'only src/protocol, src/token-streams/client and the wire module');
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
  assert.deepEqual(
    imports.filter((path) => path.startsWith('node:') || !path.startsWith('src/')),
    [],
    'no package or Node built-in imported',
  );
});
