/**
 * The pure parts of the HTTP API: body and header parsing, publication checks, the
 * fingerprint of a publication, API key comparison, and idempotency keys over the memory
 * store with an injected clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryIdempotencyStore } from '../../src/delivery/memory-idempotency-store.js';
import { ApiKeys, looksLikeJwt } from '../../src/http-api/credentials.js';
import { IdempotencyKeys, IDEMPOTENCY_LEASE_MS } from '../../src/http-api/idempotency.js';
import { canonicalJson, parsePublication, publicationFingerprint } from '../../src/http-api/publication.js';
import { bearerToken, isJsonContentType, parseJsonObject } from '../../src/http-api/request-body.js';
import { historyAction, queryParams, HISTORY_PARAMS } from '../../src/http-api/queries.js';

/** Rejects with the error a function throws, for its code and message. */
function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('request body', () => {
  test('Content-Type must be JSON in UTF-8', () => {
    assert.equal(isJsonContentType('application/json'), true);
    assert.equal(isJsonContentType('Application/JSON; charset=UTF-8'), true);
    assert.equal(isJsonContentType('application/json;charset="utf-8"'), true);
    assert.equal(isJsonContentType('application/json; charset=latin1'), false);
    assert.equal(isJsonContentType('text/plain'), false);
    assert.equal(isJsonContentType('application/x-www-form-urlencoded'), false);
    assert.equal(isJsonContentType(undefined), false);
  });

  test('a body must be a JSON object in valid UTF-8', () => {
    assert.deepEqual(parseJsonObject(Buffer.from('{"a":1}')), { a: 1 });
    assert.match(refusal(() => parseJsonObject(Buffer.from('{"a":'))).message, /not valid JSON/);
    assert.match(refusal(() => parseJsonObject(Buffer.from('[1]'))).message, /must be a JSON object, got an array/);
    assert.match(refusal(() => parseJsonObject(Buffer.from('null'))).message, /got null/);
    assert.match(refusal(() => parseJsonObject(Buffer.from(' '))).message, /empty/);
    assert.match(refusal(() => parseJsonObject(Buffer.from([0x7b, 0xff, 0x7d]))).message, /UTF-8/);
    assert.equal(refusal(() => parseJsonObject(Buffer.from('x'))).code, 'bad_request');
  });

  test('Authorization: Bearer <token>, scheme in any case', () => {
    assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
    assert.equal(bearerToken('bearer  abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

describe('publications', () => {
  test('a publication to a room or to a user, with its defaults', () => {
    assert.deepEqual(parsePublication({ room: 'news', event: 'e', data: { x: 1 } }), { ns: '/', room: 'news', event: 'e', data: { x: 1 }, except: [], volatile: false });
    assert.deepEqual(parsePublication({ ns: '/shop', user: 'u1', event: 'e', except: 'r', volatile: true, idempotencyKey: 'k-1' }), {
      ns: '/shop',
      user: 'u1',
      event: 'e',
      data: undefined,
      except: ['r'],
      volatile: true,
      idempotencyKey: 'k-1',
    });
  });

  test('each mistake is refused with a message naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ event: 'e' }, /^room: give exactly one of room and user/],
      [{ room: 'r', user: 'u', event: 'e' }, /^user: give exactly one/],
      [{ room: 'r' }, /^event: must be an event name/],
      [{ room: 'r', event: '' }, /^event: event names are strings of 1 to 256/],
      [{ room: 'r', event: 'connect' }, /^event: "connect" is a reserved event name/],
      [{ room: '', event: 'e' }, /^room: must be a string of 1 to 256/],
      [{ user: 'u'.repeat(201), event: 'e' }, /^user: must be a user id: a string of 1 to 200/],
      [{ ns: 'shop', room: 'r', event: 'e' }, /^ns: must be a namespace name/],
      [{ room: 'r', event: 'e', except: [1] }, /^except\[0\]: must be a string/],
      [{ room: 'r', event: 'e', volatile: 'yes' }, /^volatile: must be true or false/],
      [{ room: 'r', event: 'e', idempotencyKey: 'has space' }, /^idempotencyKey: must be 1 to 255 visible ASCII/],
      [{ room: 'r', evnet: 'e' }, /^evnet: unknown field/],
      [{ room: 'r', event: 'e', data: JSON.parse('['.repeat(200) + ']'.repeat(200)) }, /^data: nests arrays and objects more than 127/],
    ];
    for (const [body, message] of cases) {
      const r = refusal(() => parsePublication(body));
      assert.equal(r.code, 'bad_request');
      assert.match(r.message, message, JSON.stringify(body).slice(0, 80));
    }
    assert.match(refusal(() => parsePublication({ room: 'r' }, 'publications[3]')).message, /^publications\[3\]\.event:/);
  });

  test('the fingerprint ignores key order and the idempotency key, and sees everything else', () => {
    const a = parsePublication({ room: 'r', event: 'e', data: { x: 1, y: [1, { b: 2, a: 1 }] }, idempotencyKey: 'k1' });
    const b = parsePublication({ idempotencyKey: 'k2', data: { y: [1, { a: 1, b: 2 }], x: 1 }, event: 'e', room: 'r' });
    assert.equal(publicationFingerprint('/publish', a), publicationFingerprint('/publish', b));
    const c = parsePublication({ room: 'r', event: 'e', data: { x: 2, y: [1, { a: 1, b: 2 }] } });
    assert.notEqual(publicationFingerprint('/publish', a), publicationFingerprint('/publish', c));
    assert.notEqual(publicationFingerprint('/publish', a), publicationFingerprint('/batch', a));
    const d = parsePublication({ user: 'r', event: 'e', data: { x: 1, y: [1, { a: 1, b: 2 }] } });
    assert.notEqual(publicationFingerprint('/publish', a), publicationFingerprint('/publish', d));
  });

  test('canonical JSON is JSON, with sorted keys, at any depth', () => {
    const value = { b: [1, 'two', null, { d: true, c: 1.5 }], a: {} };
    assert.equal(canonicalJson(value), '{"a":{},"b":[1,"two",null,{"c":1.5,"d":true}]}');
    assert.deepEqual(JSON.parse(canonicalJson(value)), value);
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    assert.equal(canonicalJson(deep).length, 200_000);
  });
});

describe('history parameters', () => {
  const parse = (query: string) => historyAction(queryParams(new URLSearchParams(query), HISTORY_PARAMS));
  test('a room or a user, a since position and a limit', () => {
    assert.deepEqual(parse('room=r&sinceEpoch=ab&sinceOffset=4&limit=10'), { action: { action: 'history', ns: '/', room: 'r' }, since: { epoch: 'ab', offset: 4 }, limit: 10 });
    assert.deepEqual(parse('ns=/shop&user=u'), { action: { action: 'history', ns: '/shop', user: 'u' } });
  });
  test('mistakes name the parameter', () => {
    assert.match(refusal(() => parse('room=r&sinceEpoch=ab')).message, /^sinceOffset: sinceEpoch and sinceOffset go together/);
    assert.match(refusal(() => parse('room=r&limit=0')).message, /^limit: must be an integer from 1 to 1000/);
    assert.match(refusal(() => parse('room=r&room=s')).message, /^room: given more than once/);
    assert.match(refusal(() => parse('room=r&page=2')).message, /^page: unknown parameter/);
    assert.match(refusal(() => parse('')).message, /^room: give exactly one of room and user/);
  });
});

describe('API keys', () => {
  test('any of several keys matches, named by a hash and never by the key', () => {
    const keys = new ApiKeys(['old-key-0123456789', 'new-key-0123456789']);
    const old = keys.match('old-key-0123456789');
    const fresh = keys.match('new-key-0123456789');
    assert.equal(old?.kind, 'key');
    assert.match(old?.id ?? '', /^key:[0-9a-f]{16}$/);
    assert.notEqual(old?.id, fresh?.id);
    assert.equal(keys.match('new-key-0123456789')?.id, fresh?.id);
    assert.equal(keys.match('new-key-012345678'), undefined, 'a prefix of a key');
    assert.equal(keys.match('new-key-0123456789x'), undefined, 'a key with more after it');
    assert.equal(keys.match(''), undefined);
    assert.throws(() => new ApiKeys(['']), /non-empty strings/);
  });

  test('a JWT is three base64url parts', () => {
    assert.equal(looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_x'), true);
    assert.equal(looksLikeJwt('sk_live_abc'), false);
    assert.equal(looksLikeJwt('a.b'), false);
  });
});

describe('idempotency keys over the memory store', () => {
  function setup(wait = 0) {
    let now = 1_000;
    const store = new MemoryIdempotencyStore({ now: () => now, maxKeys: 3 });
    const slept: number[] = [];
    const keys = new IdempotencyKeys({
      store,
      ttl: 10_000,
      wait,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });
    return { store, keys, slept, advance: (ms: number) => (now += ms) };
  }
  const ok = { status: 200, body: '{"position":{"epoch":"e","offset":1}}' };

  test('the first request runs; a retry with the same body gets its answer; another body is a conflict', async () => {
    const { keys } = setup();
    const first = await keys.begin('key:a', 'k1', 'body-1');
    assert.equal(first.kind, 'run');
    if (first.kind !== 'run') return;
    await keys.finish(first, ok);
    assert.deepEqual(await keys.begin('key:a', 'k1', 'body-1'), { kind: 'replay', answer: ok });
    await assert.rejects(keys.begin('key:a', 'k1', 'body-2'), { code: 'idempotency_conflict' });
  });

  test('keys are scoped by credential', async () => {
    const { keys } = setup();
    const a = await keys.begin('key:a', 'k1', 'body');
    if (a.kind === 'run') await keys.finish(a, ok);
    assert.equal((await keys.begin('key:b', 'k1', 'body')).kind, 'run');
  });

  test('a retry of a running request waits for it, then is told it is in flight', async () => {
    const { keys, slept } = setup(500);
    assert.equal((await keys.begin('key:a', 'k1', 'body')).kind, 'run');
    await assert.rejects(keys.begin('key:a', 'k1', 'body'), (err: { code: string; headers: Record<string, string> }) => {
      assert.equal(err.code, 'idempotency_in_flight');
      assert.equal(err.headers['Retry-After'], '1');
      return true;
    });
    assert.deepEqual(slept, [10, 20, 40, 80, 160, 190], 'growing pauses, 500 ms in all');
  });

  test('a server-side failure is released: the retry runs', async () => {
    const { keys } = setup();
    const first = await keys.begin('key:a', 'k1', 'body');
    if (first.kind === 'run') await keys.finish(first, { status: 503, body: '{"code":"cluster_unavailable","message":"x"}' });
    assert.equal((await keys.begin('key:a', 'k1', 'body')).kind, 'run');
  });

  test('answers expire after the TTL; an abandoned claim after its lease', async () => {
    const { keys, advance } = setup();
    const first = await keys.begin('key:a', 'k1', 'body');
    if (first.kind === 'run') await keys.finish(first, ok);
    advance(9_999);
    assert.equal((await keys.begin('key:a', 'k1', 'body')).kind, 'replay');
    advance(1);
    assert.equal((await keys.begin('key:a', 'k1', 'body')).kind, 'run', 'expired: runs again');
    assert.equal((await keys.begin('key:b', 'k2', 'body')).kind, 'run');
    advance(IDEMPOTENCY_LEASE_MS);
    assert.equal((await keys.begin('key:b', 'k2', 'body')).kind, 'run', 'the lease ran out');
  });

  test('the store keeps at most maxKeys keys, forgetting the oldest first', async () => {
    const { store } = setup();
    for (const k of ['a', 'b', 'c', 'd']) await store.claim(k, 'f', 't', 1_000);
    assert.equal(store.size, 3);
    assert.equal(await store.claim('a', 'f', 't2', 1_000), undefined, '"a" was forgotten: claimed anew');
    assert.deepEqual(await store.claim('d', 'f', 't2', 1_000), { fingerprint: 'f' });
  });

  test('a late completion does not overwrite the claim of the attempt that took over', async () => {
    const { store, advance } = setup();
    await store.claim('k', 'f', 'first', 100);
    advance(100);
    await store.claim('k', 'f', 'second', 100);
    await store.complete('k', 'first', { fingerprint: 'f', answer: ok }, 10_000);
    assert.deepEqual(await store.claim('k', 'f', 'third', 100), { fingerprint: 'f' }, 'still the second attempt, running');
    await store.release('k', 'first');
    assert.deepEqual(await store.claim('k', 'f', 'third', 100), { fingerprint: 'f' }, 'release by another attempt is ignored');
  });
});
