import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddressResolver, limitKey, normalizeAddress } from '../../src/server/client-address.js';

function request(peer: string, forwarded?: string | string[]): { socket: { remoteAddress: string }; headers: Record<string, string | string[]> } {
  return { socket: { remoteAddress: peer }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } };
}

test('without trustProxy the socket peer is the client, IPv4-mapped IPv6 spelled as IPv4', () => {
  const resolve = clientAddressResolver(false);
  assert.equal(resolve(request('::ffff:127.0.0.1', '203.0.113.7')), '127.0.0.1');
  assert.equal(resolve(request('2001:DB8::1')), '2001:db8::1');
  assert.equal(clientAddressResolver(0)(request('10.0.0.1', '203.0.113.7')), '10.0.0.1', '0 hops');
});

test('true: the leftmost address; entries may carry ports and brackets; repeated headers are one chain', () => {
  const resolve = clientAddressResolver(true);
  assert.equal(resolve(request('10.0.0.1', '203.0.113.7, 10.0.0.2')), '203.0.113.7');
  assert.equal(resolve(request('10.0.0.1', '203.0.113.7:5123')), '203.0.113.7');
  assert.equal(resolve(request('10.0.0.1', '[2001:db8::7]:5123')), '2001:db8::7');
  assert.equal(resolve(request('10.0.0.1', '::ffff:203.0.113.7')), '203.0.113.7');
  assert.equal(resolve(request('10.0.0.1', ['198.51.100.1', '203.0.113.7'])), '198.51.100.1');
});

test('malformed entries that must be read fall back to the socket peer', () => {
  const resolve = clientAddressResolver(true);
  for (const bad of ['unknown', '203.0.113.7, ', '1.2.3', '203.0.113.7;10.0.0.1', ' , ', '[::1']) {
    assert.equal(resolve(request('10.0.0.1', bad)), '10.0.0.1', JSON.stringify(bad));
  }
  assert.equal(resolve(request('10.0.0.1', '')), '10.0.0.1', 'empty header');
  assert.equal(resolve(request('10.0.0.1')), '10.0.0.1', 'no header');
});

test('a hop count reads only the entries it trusts', () => {
  assert.equal(clientAddressResolver(1)(request('10.0.0.1', 'garbage, 203.0.113.7')), '203.0.113.7');
  assert.equal(clientAddressResolver(2)(request('10.0.0.1', '198.51.100.1, 203.0.113.7')), '198.51.100.1');
  assert.equal(clientAddressResolver(3)(request('10.0.0.1', '203.0.113.7')), '203.0.113.7', 'a short chain gives its farthest address');
  assert.throws(() => clientAddressResolver(1.5), RangeError);
  assert.throws(() => clientAddressResolver(-1), RangeError);
});

test('a list of proxies (addresses and CIDR ranges): walk back while the hop is trusted', () => {
  const resolve = clientAddressResolver(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);
  assert.equal(resolve(request('10.1.1.1', '198.51.100.1, 203.0.113.7, 192.0.2.1')), '203.0.113.7');
  assert.equal(resolve(request('::ffff:10.1.1.1', '203.0.113.7')), '203.0.113.7', 'IPv4-mapped peer');
  assert.equal(resolve(request('fd00::1', '2001:db8::9')), '2001:db8::9');
  assert.equal(resolve(request('203.0.113.50', '198.51.100.1')), '203.0.113.50', 'an untrusted peer: the header is ignored');
  assert.equal(resolve(request('10.1.1.1', '10.2.2.2')), '10.2.2.2', 'a chain of only proxies ends at its farthest');
  for (const bad of ['10.0.0.0/33', 'proxy.local', '10.0.0.1/', '::1/129', '10.0.0.0/8/1']) {
    assert.throws(() => clientAddressResolver([bad]), { name: 'TypeError', message: /trustProxy/ }, bad);
  }
});

test('limit keys: IPv4 as is, IPv6 by /64', () => {
  assert.equal(limitKey('203.0.113.7'), '203.0.113.7');
  assert.equal(limitKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:0db8:0001:0002::'), '2001:db8:1:2::/64');
  assert.equal(limitKey('::1'), '0:0:0:0::/64');
  assert.equal(limitKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  assert.equal(normalizeAddress('::FFFF:10.0.0.1'), '10.0.0.1');
});
