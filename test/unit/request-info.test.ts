import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestInfoRecorder } from '../../src/transport/request-info.js';

test('what an upgrade leaves behind: the WebSocket handshake headers dropped, repeated values shared', () => {
  const recorder = new RequestInfoRecorder();
  const upgrade = (n: number) => ({
    host: ['example.com', ':443'].join(''),
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': `key${n}`,
    'sec-websocket-version': '13',
    'sec-websocket-extensions': 'permessage-deflate',
    'sec-websocket-protocol': 'switchboard.v1',
    'user-agent': `agent ${n}`,
    'x-forwarded-for': ['1.2.3.4'],
  });
  const a = recorder.record(['/w', 's'].join(''), upgrade(1), '10.0.0.1');
  const b = recorder.record(['/w', 's'].join(''), upgrade(2), '10.0.0.2');
  assert.deepEqual(a.headers, { host: 'example.com:443', 'sec-websocket-protocol': 'switchboard.v1', 'user-agent': 'agent 1', 'x-forwarded-for': ['1.2.3.4'] });
  assert.deepEqual(b.headers, { host: 'example.com:443', 'sec-websocket-protocol': 'switchboard.v1', 'user-agent': 'agent 2', 'x-forwarded-for': ['1.2.3.4'] });
  assert.equal(b.url, '/ws');
  assert.equal(b.remoteAddress, '10.0.0.2');

  const hostile = JSON.parse('{"__proto__": "x", "host": "h"}') as Record<string, string>;
  const c = recorder.record('/ws', hostile, '10.0.0.3');
  assert.equal(Object.getPrototypeOf(c.headers), Object.prototype, 'a "__proto__" header cannot set the prototype');
  assert.deepEqual(Object.keys(c.headers), ['host']);
});
