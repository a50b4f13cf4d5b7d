import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SwitchboardError } from '../../src/protocol/errors.js';
import { ArrivalOrder } from '../../src/server/arrival-order.js';
import type { StandardSchemaV1 } from '../../src/server/standard-schema.js';
import { formatPath, invalidData, validateEvent, type Validation } from '../../src/server/validation.js';

function schema(validate: StandardSchemaV1.Props['validate']): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'test', validate } };
}

test('paths are written as in JavaScript, the data itself as (root)', () => {
  assert.equal(formatPath([]), '(root)');
  assert.equal(formatPath(['items', 2, 'name']), 'items[2].name');
  assert.equal(formatPath([0, 'a b', '$ok', '9x']), '[0]["a b"].$ok["9x"]');
});

test('a bad_request names up to three issues and details up to ten, with path segments and symbols made JSON', () => {
  const issues: StandardSchemaV1.Issue[] = [
    { message: 'Required', path: ['items', { key: 2 }, 'name'] },
    { message: 'Too big', path: [Symbol('s')] },
    { message: 'Wrong', path: undefined },
  ];
  for (let i = 0; i < 20; i++) issues.push({ message: `m${i}`, path: [i] });
  const error = invalidData('post', issues);
  assert.equal(error.code, 'bad_request');
  assert.equal(error.message, 'invalid "post" data: items[2].name: Required; ["Symbol(s)"]: Too big; (root): Wrong (and 20 more)');
  assert.equal(error.details?.issues?.length, 10);
  assert.deepEqual(error.details?.issues?.[0], { path: ['items', 2, 'name'], message: 'Required' });
  assert.deepEqual(error.details?.issues?.[1]?.path, ['Symbol(s)']);
  assert.deepEqual(error.details?.issues?.[2]?.path, []);
  assert.equal(invalidData('e', []).message, 'invalid "e" data');
});

test('what hostile data makes a schema report stays bounded', () => {
  const deep = Array.from({ length: 5000 }, () => 0);
  const error = invalidData('e', [{ message: 'x'.repeat(10_000), path: deep }]);
  const issue = error.details?.issues?.[0];
  assert.equal(issue?.path.length, 33);
  assert.equal(issue?.path.at(-1), '…');
  assert.ok((issue?.message.length ?? 0) <= 201);
  assert.ok(error.message.length < 500);
});

test('validateEvent: sync stays sync, async resolves, failures of the schema become internal_error', async () => {
  const sync = validateEvent(schema((v) => ({ value: Number(v) * 2 })), 'e', 21);
  assert.deepEqual(sync, { ok: true, value: 42 });
  const async = validateEvent(schema(async () => ({ issues: [{ message: 'no' }] })), 'e', 1);
  assert.ok(async instanceof Promise);
  assert.deepEqual(await async, { ok: false, error: { code: 'bad_request', message: 'invalid "e" data: (root): no', details: { issues: [{ path: [], message: 'no' }] } } });
  const thrown = new Error('bug');
  for (const broken of [
    schema(() => {
      throw thrown;
    }),
    schema(() => Promise.reject(thrown)),
  ]) {
    const outcome = (await validateEvent(broken, 'e', 1)) as Extract<Validation, { ok: false }>;
    assert.equal(outcome.error.code, 'internal_error');
    assert.equal(outcome.thrown, thrown);
  }
  const notArray = (await validateEvent(schema(() => ({ issues: 'bad' }) as never), 'e', 1)) as Extract<Validation, { ok: false }>;
  assert.equal(notArray.error.code, 'internal_error');
});

test('ArrivalOrder starts at once while nothing waits, and in arrival order behind a pending value', async () => {
  const reported: unknown[] = [];
  const order = new ArrivalOrder((err) => reported.push(err));
  const started: string[] = [];
  order.next('a', (v) => started.push(v));
  assert.deepEqual(started, ['a'], 'synchronous when nothing waits');
  let release: (v: string) => void = () => {};
  order.next(new Promise<string>((r) => (release = r)), (v) => started.push(v));
  order.next('c', (v) => started.push(v));
  order.next(Promise.resolve('d'), () => {
    started.push('d');
    throw new Error('handler bug');
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['a'], 'c and d wait behind b');
  release('b');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['a', 'b', 'c', 'd']);
  assert.equal(reported.length, 1);
  order.next('e', (v) => started.push(v));
  assert.deepEqual(started.at(-1), 'e', 'synchronous again once the queue drained');
});

test('SwitchboardError carries details only when they are well-formed, through toPayload and fromPayload', () => {
  const plain = new SwitchboardError('x', 'y');
  assert.equal('details' in plain, false);
  assert.deepEqual(plain.toPayload(), { code: 'x', message: 'y' });
  const issues = [{ path: ['a', 1], message: 'm' }];
  const round = SwitchboardError.fromPayload(new SwitchboardError('bad_request', 'm', { details: { issues } }).toPayload());
  assert.deepEqual(round.details, { issues });
  const junk = SwitchboardError.fromPayload({ code: 'bad_request', message: 'm', details: { issues: [{ path: [{}], message: 'm' }, { path: ['ok'], message: 2 }, null, { path: ['k'], message: 'kept' }] } } as never);
  assert.deepEqual(junk.details, { issues: [{ path: ['k'], message: 'kept' }] });
  assert.equal('details' in SwitchboardError.fromPayload({ code: 'c', message: 'm', details: 'text' } as never), false);
});
