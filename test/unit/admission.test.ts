import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission } from '../../src/server/admission.js';

const noRate = { maxConnections: Number.POSITIVE_INFINITY, maxConnectionsPerIp: 2, handshakeRate: undefined };

test('connections per IP: counted from opened() until released, once; refusals name the code and a Retry-After', () => {
  const admission = new Admission(noRate);
  const releaseA = admission.opened('10.0.0.1', true);
  admission.opened('10.0.0.1', true);
  const refused = admission.check('10.0.0.1');
  assert.equal(refused?.status, 429);
  assert.equal(refused?.code, 'too_many_connections');
  assert.ok(Number(refused?.headers['Retry-After']) > 0);
  assert.equal(admission.check('10.0.0.2'), undefined, 'another IP');
  releaseA();
  releaseA();
  assert.equal(admission.connectionsFrom('10.0.0.1'), 1, 'a release counts once');
  assert.equal(admission.check('10.0.0.1'), undefined);
});

test('IPv6 clients are counted by their /64 network', () => {
  const admission = new Admission(noRate);
  admission.opened('2001:db8:1:2::a', true);
  admission.opened('2001:db8:1:2:ffff::b', true);
  assert.equal(admission.check('2001:db8:1:2:3:4:5:6')?.code, 'too_many_connections');
  assert.equal(admission.check('2001:db8:1:3::a'), undefined, 'another /64');
});

test('maxConnections counts accepted connections only; a server_full one still counts for its IP', () => {
  const admission = new Admission({ maxConnections: 1, maxConnectionsPerIp: 5, handshakeRate: undefined });
  const accepted = admission.opened('10.0.0.1', true);
  assert.equal(admission.isFull(), true);
  const refused = admission.opened('10.0.0.1', false);
  assert.equal(admission.connections, 1);
  assert.equal(admission.connectionsFrom('10.0.0.1'), 2);
  refused();
  accepted();
  assert.equal(admission.isFull(), false);
  assert.equal(admission.connectionsFrom('10.0.0.1'), 0);
});

test('handshake rate per IP: the burst, then rate_limited with Retry-After, then tokens come back', () => {
  const admission = new Admission({ maxConnections: 10, maxConnectionsPerIp: 10, handshakeRate: { perSecond: 2, burst: 2 } });
  assert.equal(admission.check('10.0.0.1', 0), undefined);
  assert.equal(admission.check('10.0.0.1', 0), undefined);
  const refused = admission.check('10.0.0.1', 0);
  assert.equal(refused?.code, 'rate_limited');
  assert.equal(refused?.headers['Retry-After'], '1');
  assert.equal(admission.check('10.0.0.2', 0), undefined, 'each IP has its own bucket');
  assert.equal(admission.check('10.0.0.1', 500), undefined, 'one token after 1/perSecond');
});

test('buckets of idle IPs are forgotten: memory stays bounded while a busy IP stays limited', () => {
  const admission = new Admission({ maxConnections: 10, maxConnectionsPerIp: 10, handshakeRate: { perSecond: 10, burst: 1 } });
  // One IP uses its token and is refused at the end; 20,000 others pass by, one per millisecond.
  for (let i = 0; i < 20_000; i++) {
    admission.check(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i);
    assert.ok(admission.trackedAddresses <= 1024, `at most 1024 buckets, got ${admission.trackedAddresses} after ${i + 1} IPs`);
  }
  assert.equal(admission.check('192.0.2.1', 20_000), undefined);
  for (let i = 0; i < 2000; i++) admission.check(`172.16.${(i >> 8) & 255}.${i & 255}`, 20_050);
  assert.equal(admission.check('192.0.2.1', 20_050)?.code, 'rate_limited', 'a bucket that is not full is kept through sweeps');
});

test('sessions waiting to be resumed hold a place in all (the oldest gives it up) and at most maxConnectionsPerIp of one IP wait', () => {
  const admission = new Admission({ maxConnections: 3, maxConnectionsPerIp: 2, handshakeRate: undefined });
  const ended: string[] = [];
  const hold = (name: string, address: string): void => {
    const holder = { name };
    admission.hold(holder, address, () => {
      ended.push(name);
      admission.release(holder);
    });
  };
  hold('a1', '10.0.0.1');
  hold('a2', '10.0.0.1');
  assert.equal(admission.check('10.0.0.1'), undefined, "an IP's waiting sessions never refuse its own reconnect");
  hold('a3', '10.0.0.1');
  assert.deepEqual(ended, ['a1'], 'a third waiting session of one IP ends its oldest');
  admission.open('10.0.0.1', true);
  assert.equal(admission.connections, 3);
  assert.equal(admission.isFull(), false, 'the oldest waiting session gives up its place');
  assert.deepEqual(ended, ['a1', 'a2']);
  admission.open('10.0.0.3', true);
  admission.release({ name: 'unknown' });
  assert.equal(admission.isFull(), false, 'a3 gives its place up too');
  admission.open('10.0.0.4', true);
  assert.equal(admission.isFull(), true, 'only live connections left');
  assert.equal(admission.waitingSessions, 0);
});
