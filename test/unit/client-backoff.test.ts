import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/client/backoff.js';
import { resolveOptions } from '../../src/client/options.js';
import { ONLINE_SPREAD_MS, ReconnectSchedule } from '../../src/client/reconnect-schedule.js';

describe('backoffDelay (full jitter)', () => {
  it('is 0 when random() is 0, whatever the attempt', () => {
    for (const attempt of [0, 1, 5, 30]) assert.equal(backoffDelay(attempt, 1000, 30_000, () => 0), 0);
  });

  it('scales random() over a window that doubles per attempt', () => {
    const half = () => 0.5;
    assert.equal(backoffDelay(0, 1000, 30_000, half), 500);
    assert.equal(backoffDelay(1, 1000, 30_000, half), 1000);
    assert.equal(backoffDelay(2, 1000, 30_000, half), 2000);
    assert.equal(backoffDelay(4, 1000, 30_000, half), 8000);
  });

  it('caps the window at maxDelay', () => {
    assert.equal(backoffDelay(5, 1000, 30_000, () => 0.5), 15_000); // 32 s window capped to 30 s
    assert.equal(backoffDelay(10_000, 1000, 30_000, () => 0.999), 0.999 * 30_000); // 2^10000 overflows to Infinity
  });

  it('stays within [0, min(cap, base * 2^attempt)) with Math.random', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const window = Math.min(30_000, 1000 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, 1000, 30_000);
        assert.ok(d >= 0 && d < window, `attempt ${attempt}: ${d} outside [0, ${window})`);
      }
    }
  });
});

describe('ReconnectSchedule', () => {
  const policy = { enabled: true, delay: 100, maxDelay: 1000, maxAttempts: 3 };

  it('numbers attempts from 1 and doubles the window per failure', () => {
    const schedule = new ReconnectSchedule(policy, () => 0.5);
    assert.deepEqual(schedule.next(), { attempt: 1, delay: 50 });
    assert.deepEqual(schedule.next(), { attempt: 2, delay: 100 });
    assert.deepEqual(schedule.next(), { attempt: 3, delay: 200 });
    assert.equal(schedule.next(), undefined, 'maxAttempts reached');
    schedule.reset();
    assert.deepEqual(schedule.next(), { attempt: 1, delay: 50 });
  });

  it('gives nothing when reconnecting is disabled', () => {
    assert.equal(new ReconnectSchedule({ ...policy, enabled: false }).next(), undefined);
  });

  it('runs the retry after the wait unless cancelled', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const schedule = new ReconnectSchedule(policy);
    const runs: string[] = [];
    schedule.wait(10, () => runs.push('cancelled'));
    schedule.cancel();
    schedule.wait(10, () => runs.push('first'));
    schedule.wait(20, () => runs.push('replaced')); // a new wait replaces the pending one
    t.mock.timers.tick(19);
    assert.deepEqual(runs, [], 'not before its wait');
    t.mock.timers.tick(1);
    assert.deepEqual(runs, ['replaced']);
    t.mock.timers.tick(1000);
    assert.deepEqual(runs, ['replaced'], 'once');
  });
});

describe('the default reconnect policy (issue 13: back within seconds of the network)', () => {
  const defaults = resolveOptions('ws://localhost/ws', { WebSocket: class {} as never }).reconnect;

  it('is a 1 s first window and a 5 s cap', () => {
    assert.deepEqual(defaults, { enabled: true, delay: 1000, maxDelay: 5000, maxAttempts: Number.POSITIVE_INFINITY });
  });

  it('never waits 5 s or more, however many attempts failed', () => {
    const schedule = new ReconnectSchedule(defaults, () => 0.999_999);
    const waits = Array.from({ length: 40 }, () => schedule.next()?.delay ?? Number.NaN);
    assert.ok(waits.every((ms) => ms < 5000), waits.join(', '));
    assert.deepEqual(waits.slice(0, 4).map(Math.round), [1000, 2000, 4000, 5000]);
  });

  it('still spreads the first retry after a server restart over the whole first window', () => {
    const draws = [0, 0.25, 0.5, 0.75].map((r) => new ReconnectSchedule(defaults, () => r).next()?.delay);
    assert.deepEqual(draws, [0, 250, 500, 750]);
  });
});

describe('ReconnectSchedule.afterOnline', () => {
  const policy = { enabled: true, delay: 100, maxDelay: 1000, maxAttempts: 3 };

  it('starts the backoff over and spreads the next attempt over ONLINE_SPREAD_MS (a few hundred ms)', () => {
    let r = 0;
    const schedule = new ReconnectSchedule(policy, () => r);
    schedule.next();
    schedule.next();
    schedule.next();
    assert.equal(schedule.next(), undefined, 'exhausted');
    r = 0.5;
    assert.equal(schedule.afterOnline(), ONLINE_SPREAD_MS / 2);
    assert.deepEqual(schedule.next(), { attempt: 1, delay: 50 }, 'counted from 1 again');
    r = 0.999_999;
    assert.ok(schedule.afterOnline() < ONLINE_SPREAD_MS);
    assert.ok(ONLINE_SPREAD_MS > 0 && ONLINE_SPREAD_MS <= 500);
  });
});
