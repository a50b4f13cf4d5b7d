import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryOf } from '../../src/server/handshake-query.js';

test('handshake.query: one value as a string, a repeated name as an array, decoded, frozen', () => {
  assert.deepEqual({ ...queryOf('/ws') }, {});
  assert.deepEqual({ ...queryOf('/ws?') }, {});
  assert.deepEqual({ ...queryOf('/socket.io/?EIO=4&transport=polling&app=a%20b&tag=x&tag=y&tag=z&empty=') }, {
    EIO: '4',
    transport: 'polling',
    app: 'a b',
    tag: ['x', 'y', 'z'],
    empty: '',
  });
  const query = queryOf('/ws?__proto__=1&constructor=2');
  assert.equal(query.__proto__, '1', 'a parameter named __proto__ is data, not a prototype');
  assert.equal(query.constructor, '2');
  assert.ok(Object.isFrozen(query));
});
