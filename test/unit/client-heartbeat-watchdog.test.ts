import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatWatchdog } from '../../src/client/heartbeat-watchdog.js';

// Silence is judged by an injected clock and the timer runs on node:test's mock timers, so
// "it did not fire" is a reading of the clock, not a wait that a slower bug would also pass.
describe('HeartbeatWatchdog', () => {
  it('fires once after silenceMs without a touch', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    now = 9;
    t.mock.timers.tick(9);
    assert.equal(fired, 0, '9 ms of silence is under the limit');
    now = 10;
    t.mock.timers.tick(1);
    assert.equal(fired, 1);
    now = 1000;
    t.mock.timers.tick(990);
    assert.equal(fired, 1, 'fires once, not repeatedly');
  });

  it('does not fire while frames keep arriving, and re-arms for the remaining time', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    now = 10;
    dog.touch(); // the check at 10 sees no silence and re-arms for the full limit
    t.mock.timers.tick(10);
    assert.equal(fired, 0);
    now = 19;
    t.mock.timers.tick(9);
    assert.equal(fired, 0, '9 ms of silence is under the limit');
    now = 20;
    t.mock.timers.tick(1);
    assert.equal(fired, 1, 'the re-armed timer fires at touch + silenceMs');
  });

  it('a late timer (a device that slept) is overdue by the clock, before the timer fires', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    const dog = new HeartbeatWatchdog(10, () => {}, () => now);
    dog.start();
    assert.equal(dog.overdue, false);
    now = 60_000; // the timers were frozen meanwhile
    assert.equal(dog.overdue, true);
  });

  it('stop() cancels it', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    dog.stop();
    now = 1000;
    t.mock.timers.tick(1000);
    assert.equal(fired, 0);
    assert.equal(dog.overdue, false, 'a stopped watchdog is never overdue');
  });
});
