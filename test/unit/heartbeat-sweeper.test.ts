/**
 * The server's heartbeat on an injected clock: sweep(now) is given the time, so "not before
 * interval + timeout" is checked on clock readings instead of measured on a loaded machine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type HeartbeatTarget, HeartbeatSweeper } from '../../src/server/heartbeat.js';

class Peer implements HeartbeatTarget {
  pings: number[] = [];
  expired = false;
  constructor(
    public lastSeen: number,
    public lastPing = lastSeen,
    public watched = true,
  ) {}
  sendPing(): void {
    this.pings.push(this.lastPing);
  }
  expire(): void {
    this.expired = true;
  }
}

/** Sweep every `tick` ms from `from` to `to` (inclusive), as the sweeper's timer would; returns when `peer` expired. */
function sweepUntil(sweeper: HeartbeatSweeper, peer: Peer, from: number, to: number): number | undefined {
  for (let now = from; now <= to; now += sweeper.tickMs) {
    sweeper.sweep(now);
    if (peer.expired) return now;
  }
  return undefined;
}

describe('HeartbeatSweeper', () => {
  test('a silent peer is pinged each interval and expired only after interval + timeout of silence, within a tick', () => {
    const peer = new Peer(0);
    const sweeper = new HeartbeatSweeper([peer], 50, 50);
    const expiredAt = sweepUntil(sweeper, peer, 0, 1000);
    assert.ok(expiredAt !== undefined, 'expired');
    assert.ok(expiredAt > 100, `not at or before interval + timeout (expired at ${expiredAt})`);
    assert.ok(expiredAt <= 100 + sweeper.tickMs, `within one tick after (expired at ${expiredAt}, tick ${sweeper.tickMs})`);
    assert.deepEqual(peer.pings, [60], 'pinged at the first tick past the interval');
  });

  test('a peer that answers each ping is never expired', () => {
    const peer = new Peer(0);
    const sweeper = new HeartbeatSweeper([peer], 50, 50);
    for (let now = 0; now <= 10_000; now += sweeper.tickMs) {
      sweeper.sweep(now);
      if (peer.pings.length > 0 && peer.lastSeen < peer.lastPing) peer.lastSeen = now; // the pong comes back within a tick
    }
    assert.equal(peer.expired, false);
    assert.ok(peer.pings.length >= 10_000 / (50 + sweeper.tickMs) - 1, `pinged every interval, give or take a tick (${peer.pings.length} pings)`);
  });

  test('a late sweep (a stalled process) expires a peer silent for longer than interval + timeout, and no other', () => {
    const silent = new Peer(0);
    const fresh = new Peer(900, 0);
    const sweeper = new HeartbeatSweeper([silent, fresh], 50, 50);
    sweeper.sweep(1000);
    assert.equal(silent.expired, true);
    assert.equal(fresh.expired, false);
    assert.deepEqual(fresh.pings, [1000]);
  });

  test('unwatched sessions (handshaking, waiting to be resumed) are neither pinged nor expired', () => {
    const waiting = new Peer(0, 0, false);
    new HeartbeatSweeper([waiting], 50, 50).sweep(10_000);
    assert.deepEqual(waiting.pings, []);
    assert.equal(waiting.expired, false);
  });

  test('the tick is a quarter of the shorter of interval and timeout, at least 5 ms', () => {
    assert.equal(new HeartbeatSweeper([], 25_000, 20_000).tickMs, 5000);
    assert.equal(new HeartbeatSweeper([], 8, 8).tickMs, 5);
  });
});
