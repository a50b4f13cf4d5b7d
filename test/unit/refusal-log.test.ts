/**
 * Refusal logging is bounded (one address hammering the server must not flood the log):
 * per message and code, 10 lines a second, then one "refusals suppressed" line with the
 * number held back — at the start of the next second, or before the next line of that kind.
 * The counts in stats stay exact. Time is a hand-moved clock with hand-fired timers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RefusalClock } from '../../src/server/refusal-log.js';
import { ServerCounters } from '../../src/server/server-counters.js';
import { ServerLog } from '../../src/server/server-log.js';

interface Line {
  level: string;
  message: string | undefined;
  fields: Record<string, unknown>;
}

/** A clock the test moves; timers fire when the clock passes their time. */
class HandClock implements RefusalClock {
  private timers: { at: number; fire: () => void }[] = [];
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  later(fire: () => void, ms: number): void {
    this.timers.push({ at: this.time + ms, fire });
  }
  /** Move to `time`, firing the timers due by then. */
  set(time: number): void {
    this.jump(time);
    this.fireDue();
  }
  /** Move to `time` without firing anything yet (a timer that runs late). */
  jump(time: number): void {
    this.time = time;
  }
  fireDue(): void {
    const time = this.time;
    const due = this.timers.filter((t) => t.at <= time);
    this.timers = this.timers.filter((t) => t.at > time);
    for (const t of due) t.fire();
  }
}

function counting(start = 1_000_000): { counters: ServerCounters; clock: HandClock; lines: Line[] } {
  const lines: Line[] = [];
  const push = (level: string) => (fields: Record<string, unknown>, message?: string) => void lines.push({ level, fields, message });
  const log = new ServerLog({ error: push('error'), warn: push('warn'), info: push('info'), debug: push('debug') });
  const clock = new HandClock(start);
  return { counters: new ServerCounters(log, clock), clock, lines };
}

const upgrade = { transport: 'websocket', address: '203.0.113.7', origin: 'https://evil.example' };

describe('refusal logging is bounded', () => {
  test('25 refusals in one second: 10 lines, then one summary with 15 when the next second starts; all 25 counted', () => {
    const { counters, clock, lines } = counting(5_000_250);
    for (let i = 0; i < 25; i++) counters.refused('origin_not_allowed', upgrade);
    assert.equal(lines.length, 10);
    assert.ok(lines.every((l) => l.level === 'warn' && l.message === 'refused' && l.fields.code === 'origin_not_allowed'));
    clock.set(5_000_999);
    assert.equal(lines.length, 10, 'nothing before the second ends');
    clock.set(5_001_000);
    assert.equal(lines.length, 11);
    assert.deepEqual(lines[10], { level: 'warn', message: 'refusals suppressed', fields: { code: 'origin_not_allowed', suppressed: 15, of: 'refused' } });
    assert.equal(counters.refusals.origin_not_allowed, 25, 'stats count every refusal');
    assert.equal(counters.recentRefusals().length, 25);
    assert.equal(counters.recentRefusals()[0]?.at, 5_000_250, 'refusals are stamped by the same clock');
    // The next second starts afresh.
    for (let i = 0; i < 10; i++) counters.refused('origin_not_allowed', upgrade);
    assert.equal(lines.length, 21);
  });

  test('the summary comes before the next line of its kind when that line comes first', () => {
    const { counters, clock, lines } = counting(7_000_000);
    for (let i = 0; i < 12; i++) counters.refused('rate_limited', upgrade);
    // The timer runs late: the next refusal, seconds later, writes the summary first.
    clock.jump(7_003_500);
    counters.refused('rate_limited', upgrade);
    clock.fireDue();
    assert.deepEqual(lines.slice(10).map((l) => [l.message, l.fields.suppressed]), [
      ['refusals suppressed', 2],
      ['refused', undefined],
    ], 'the late timer writes no second summary');
  });

  test('each message and code has its own budget; middleware refusals summed up at info', () => {
    const { counters, clock, lines } = counting(9_000_000);
    for (let i = 0; i < 11; i++) {
      counters.refused('origin_not_allowed', upgrade);
      counters.refused('too_many_connections', upgrade);
      counters.refused('unauthorized', { ...upgrade, namespace: '/admin' }, 'info');
    }
    assert.equal(lines.length, 30);
    clock.set(9_001_000);
    const summaries = lines.filter((l) => l.message === 'refusals suppressed').map((l) => [l.level, l.fields.code, l.fields.of, l.fields.suppressed]);
    assert.deepEqual(summaries.sort(), [
      ['info', 'unauthorized', 'refused by middleware', 1],
      ['warn', 'origin_not_allowed', 'refused', 1],
      ['warn', 'too_many_connections', 'refused', 1],
    ]);
    assert.deepEqual(counters.refusals, { origin_not_allowed: 11, too_many_connections: 11, unauthorized: 11 });
  });
});
