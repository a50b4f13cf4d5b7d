import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatWatchdog } from '../../src/client/heartbeat-watchdog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Silence is judged by an injected clock, so these tests do not depend on how late timers run.
describe('HeartbeatWatchdog', () => {
  it('fires once after silenceMs without a touch', async () => {
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    now = 10;
    for (let i = 0; i < 100 && fired === 0; i++) await sleep(5);
    assert.equal(fired, 1);
    now = 1000;
    await sleep(40);
    assert.equal(fired, 1, 'fires once, not repeatedly');
  });

  it('does not fire while frames keep arriving, and re-arms for the remaining time', async () => {
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    now = 100;
    dog.touch(); // each real check sees no silence and re-arms
    await sleep(40);
    assert.equal(fired, 0);
    now = 109;
    await sleep(40);
    assert.equal(fired, 0, '9 ms of silence is under the limit');
    now = 110;
    for (let i = 0; i < 100 && fired === 0; i++) await sleep(5);
    assert.equal(fired, 1);
  });

  it('stop() cancels it', async () => {
    let now = 0;
    let fired = 0;
    const dog = new HeartbeatWatchdog(10, () => fired++, () => now);
    dog.start();
    dog.stop();
    now = 1000;
    await sleep(40);
    assert.equal(fired, 0);
  });
});
