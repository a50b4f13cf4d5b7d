import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handlersOf, withHandlers, type AnyHandler, type HandlerTable } from '../../src/server/handler-table.js';

test('handlers by event: added, replaced and removed, in a flat table and past eight events in a Map', () => {
  const h = (n: number): AnyHandler => () => n;
  let table: HandlerTable | undefined;
  for (let i = 0; i < 12; i++) table = withHandlers(table, `e${i}`, [h(i)]);
  assert.ok(table instanceof Map, 'a Map past eight events');
  for (let i = 0; i < 12; i++) assert.equal(handlersOf(table, `e${i}`)?.[0]?.(undefined), i);

  let flat: HandlerTable | undefined = withHandlers(undefined, 'a', [h(1)]);
  flat = withHandlers(flat, 'b', [h(2)]);
  flat = withHandlers(flat, 'c', [h(3)]);
  assert.ok(Array.isArray(flat));
  assert.equal((flat as unknown[]).length, 6, 'exactly two slots per event');
  flat = withHandlers(flat, 'b', [h(4), h(5)]);
  assert.equal(handlersOf(flat, 'b')?.length, 2, 'replaced');
  flat = withHandlers(flat, 'b', []);
  assert.equal(handlersOf(flat, 'b'), undefined, 'removed');
  assert.equal(handlersOf(flat, 'c')?.[0]?.(undefined), 3, 'the others stay');
  flat = withHandlers(flat, 'missing', []);
  flat = withHandlers(withHandlers(flat, 'a', []), 'c', []);
  assert.equal(flat, undefined, 'nothing left');
  assert.equal(handlersOf(undefined, 'a'), undefined);
});
