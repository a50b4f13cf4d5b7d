import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Deadline, DeadlineClock } from '../../src/server/deadline-clock.js';
import { eventually } from '../helpers/server.js';

/** An entry that records when it came due. */
class Entry implements Deadline {
  dueAt = 0;
  heapIndex = -1;
  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly onDue?: () => void,
  ) {}
  due(): void {
    this.log.push(this.name);
    this.onDue?.();
  }
}

describe('DeadlineClock', () => {
  test('calls entries in due order; cancelled ones never, rescheduled ones at their new time', async () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    const now = Date.now();
    const entries = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => new Entry(name, log));
    const [a, b, c, d, e, f] = entries as [Entry, Entry, Entry, Entry, Entry, Entry];
    clock.schedule(c, now + 60);
    clock.schedule(a, now + 20);
    clock.schedule(e, now + 100);
    clock.schedule(b, now + 40);
    clock.schedule(d, now + 80);
    clock.schedule(f, now + 30);
    clock.cancel(f);
    clock.schedule(a, now + 90); // replaces its earlier time
    assert.equal(clock.size, 5);
    await eventually(() => log.length === 5, 'every entry to come due');
    assert.deepEqual(log, ['b', 'c', 'd', 'a', 'e']);
    assert.equal(clock.size, 0);
    assert.ok(entries.every((entry) => entry.heapIndex === -1));
  });

  test('an entry that schedules itself again for a past time runs on the next turn, not in a loop', async () => {
    const clock = new DeadlineClock();
    const log: string[] = [];
    let runs = 0;
    const entry: Entry = new Entry('again', log, () => {
      if (++runs < 3) clock.schedule(entry, 0);
    });
    clock.schedule(entry, Date.now());
    await eventually(() => runs === 3, 'three runs');
    assert.equal(clock.size, 0);
  });

  test('keeps the heap order through many random schedules and cancels', () => {
    let fake = 0;
    const clock = new DeadlineClock(() => fake);
    const log: string[] = [];
    const entries = Array.from({ length: 200 }, (_, i) => new Entry(String(i), log));
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const due = new Map<Entry, number>();
    for (let i = 0; i < 2000; i++) {
      const entry = entries[Math.floor(rand() * entries.length)] as Entry;
      if (rand() < 0.3) {
        clock.cancel(entry);
        due.delete(entry);
      } else {
        const at = 1_000_000 + Math.floor(rand() * 1_000_000);
        clock.schedule(entry, at);
        due.set(entry, at);
      }
    }
    assert.equal(clock.size, due.size);
    // Fire by hand: move the fake time past everything and call the private fire() through the timer.
    fake = 3_000_000;
    (clock as unknown as { fire(): void }).fire();
    const expected = [...due.entries()].sort((x, y) => x[1] - y[1]).map(([entry]) => entry.dueAt);
    const fired = log.map((name) => (entries[Number(name)] as Entry).dueAt);
    assert.deepEqual(fired, expected);
    assert.equal(clock.size, 0);
  });
});
