/** The Engine.IO heartbeat on a test clock: one ping outstanding, a pong schedules the next, silence times out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineHeartbeat, type EngineTimers } from '../../src/compat/socketio/engine-heartbeat.js';

/** Timers that fire only when the test moves the clock. */
class TestClock implements EngineTimers {
  now = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((x, y) => x[1].at - y[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = until;
  }
}

function setup() {
  const clock = new TestClock();
  const events: string[] = [];
  const heartbeat = new EngineHeartbeat({ pingInterval: 100, pingTimeout: 50 }, clock, {
    ping: () => events.push(`ping@${clock.now}`),
    pong: () => events.push(`pong@${clock.now}`),
    timedOut: () => events.push(`timeout@${clock.now}`),
  });
  return { clock, events, heartbeat };
}

test('pings every pingInterval after the last pong', () => {
  const { clock, events, heartbeat } = setup();
  heartbeat.start();
  clock.advance(99);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ['ping@100']);
  clock.advance(30);
  heartbeat.pong();
  clock.advance(100);
  assert.deepEqual(events, ['ping@100', 'pong@130', 'ping@230']);
});

test('no pong within pingTimeout: timed out once', () => {
  const { clock, events, heartbeat } = setup();
  heartbeat.start();
  clock.advance(149);
  assert.deepEqual(events, ['ping@100']);
  clock.advance(1);
  assert.deepEqual(events, ['ping@100', 'timeout@150']);
  clock.advance(1000);
  assert.equal(events.length, 2);
});

test('pingNow pings at once, unless a ping is outstanding; a stray pong is ignored', () => {
  const { clock, events, heartbeat } = setup();
  heartbeat.start();
  heartbeat.pong();
  clock.advance(10);
  heartbeat.pingNow();
  heartbeat.pingNow();
  assert.deepEqual(events, ['ping@10']);
  heartbeat.pong();
  clock.advance(99);
  assert.deepEqual(events, ['ping@10', 'pong@10']);
  clock.advance(1);
  assert.deepEqual(events, ['ping@10', 'pong@10', 'ping@110']);
});

test('other packets while a pong is awaited extend the wait once', () => {
  const { clock, events, heartbeat } = setup();
  heartbeat.start();
  clock.advance(140);
  heartbeat.activity();
  clock.advance(40);
  heartbeat.activity();
  assert.deepEqual(events, ['ping@100']);
  clock.advance(10);
  assert.deepEqual(events, ['ping@100', 'timeout@190']);
});

test('stop: nothing fires any more', () => {
  const { clock, events, heartbeat } = setup();
  heartbeat.start();
  clock.advance(100);
  heartbeat.stop();
  clock.advance(1000);
  heartbeat.pingNow();
  assert.deepEqual(events, ['ping@100']);
});
