/** The lazy load of the fallback transports (the browser build's separate chunk). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FallbackLoader, type FallbackTransports, fallbackTransports } from '../../src/client/fallback-loader.js';
import { SwitchboardError } from '../../src/protocol/errors.js';

test('a chunk that cannot be loaded: a disconnected SwitchboardError that says what and why; the next load tries again', async () => {
  let imports = 0;
  let fail = true;
  const module = {} as FallbackTransports;
  const loader = new FallbackLoader(async () => {
    imports++;
    if (fail) throw new TypeError('Failed to fetch dynamically imported module: https://app.example/switchboard/chunks/fallback-AB12CD34.js');
    return module;
  });
  const error = await loader.load().then(
    () => assert.fail('loaded'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SwitchboardError);
  assert.equal(error.code, 'disconnected');
  assert.match(error.message, /^could not load the SSE and long-polling transports, which the client imports from chunks\/fallback-<hash>\.js beside itself: /);
  assert.match(error.message, /Failed to fetch dynamically imported module: https:\/\/app\.example\/switchboard\/chunks\/fallback-AB12CD34\.js$/);
  assert.equal(loader.loaded, undefined);

  fail = false;
  assert.equal(await loader.load(), module, 'a failure is not kept');
  assert.equal(loader.loaded, module);
  assert.equal(await loader.load(), module);
  assert.equal(imports, 2, 'a loaded module is kept');
});

test('attempts that need the chunk at the same time share one import', async () => {
  let imports = 0;
  const loader = new FallbackLoader(async () => {
    imports++;
    return {} as FallbackTransports;
  });
  const [a, b] = await Promise.all([loader.load(), loader.load()]);
  assert.equal(a, b);
  assert.equal(imports, 1);
});

test('in Node the module is a local file: both fallback transports and the upgrade probe', async () => {
  const module = await fallbackTransports.load();
  assert.equal(typeof module.openHttpTransport, 'function');
  assert.equal(typeof module.UpgradeProbe, 'function');
});
