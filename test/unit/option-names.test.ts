/**
 * The naming convention of docs/API.md ("Option names and units"), checked on the reviewed
 * public surface (api/*.api.md, kept current by `npm run api:check`): durations never carry
 * their unit in the name, and no limit says "per connection" — the words connection,
 * session and socket name three different things (docs/PROTOCOL.md, Overview).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { RENAMED_OPTIONS } from '../../src/server/renamed-options.js';
import { resolveOptions } from '../../src/server/options.js';

const apiDir = new URL('../../api/', import.meta.url);

/** Property names declared anywhere in the public surface, with the report they are in. */
function publicPropertyNames(): { report: string; name: string }[] {
  const names: { report: string; name: string }[] = [];
  for (const report of readdirSync(apiDir).filter((file) => file.endsWith('.api.md'))) {
    for (const line of readFileSync(new URL(report, apiDir), 'utf8').split('\n')) {
      const m = /^\s+(?:readonly\s+)?([A-Za-z_$][\w$]*)\??:/.exec(line);
      if (m?.[1]) names.push({ report, name: m[1] });
    }
  }
  return names;
}

describe('option names and units', () => {
  const names = publicPropertyNames();

  test('the API reports are there to check', () => {
    assert.ok(names.length > 100, `only ${names.length} property names found in api/*.api.md`);
  });

  test('a duration is named for what it times, never for its unit (no `…Ms`)', () => {
    assert.deepEqual(
      names.filter(({ name }) => /[a-z]Ms$/.test(name)),
      [],
    );
  });

  test('no limit counts "per connection" by name: per connection, session or socket is said in the option docs', () => {
    assert.deepEqual(
      names.filter(({ name }) => /PerConnection/.test(name)),
      [],
    );
  });

  test('a size in bytes ends in `Bytes`', () => {
    assert.deepEqual(
      names.filter(({ name }) => /Bytes./.test(name)),
      [],
    );
  });

  test('every renamed server option is gone, and its new name is an option', () => {
    const resolved = resolveOptions({}) as unknown as Record<string, unknown>;
    for (const [old, now] of Object.entries(RENAMED_OPTIONS)) {
      assert.ok(!(old in resolved), `${old} is still an option`);
      assert.ok(now in resolved, `${now} (renamed from ${old}) is not an option`);
    }
  });
});
