import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadlineClock } from '../../src/server/deadline-clock.js';
import { SessionLifecycle, SessionState } from '../../src/server/session-state.js';
import { DisconnectReason } from '../../src/server/socket.js';

const { Handshaking, Open, Closing, Away, Ended, Moved, HandedOver } = SessionState;

/** A lifecycle on its own: what the Session adds is what happens when its deadline passes. */
class Lifecycle extends SessionLifecycle {
  constructor(
    private readonly clock: DeadlineClock,
    private readonly onDue: () => void,
  ) {
    super();
  }
  protected get deadlineClock(): DeadlineClock {
    return this.clock;
  }
  protected deadlinePassed(): void {
    this.onDue();
  }
}

function lifecycle(onDue: () => void = () => {}): { life: SessionLifecycle; clock: DeadlineClock } {
  const clock = new DeadlineClock();
  return { life: new Lifecycle(clock, onDue), clock };
}

/** Every state reached by legal moves from Handshaking, with the path that gets there. */
const PATHS: Record<SessionState, SessionState[]> = {
  [Handshaking]: [],
  [Open]: [Open],
  [Closing]: [Open, Closing],
  [Away]: [Open, Away],
  [Ended]: [Open, Ended],
  [Moved]: [Open, Away, Moved],
  [HandedOver]: [HandedOver],
};

const LEGAL: Record<SessionState, SessionState[]> = {
  [Handshaking]: [Open, Closing, Ended, HandedOver],
  [Open]: [Closing, Away, Ended],
  [Closing]: [Ended, Moved],
  [Away]: [Open, Ended, Moved],
  [Ended]: [],
  [Moved]: [],
  [HandedOver]: [],
};

describe('SessionLifecycle', () => {
  test('a session starts handshaking, unwelcomed, not over', () => {
    const { life } = lifecycle();
    assert.equal(life.state, Handshaking);
    assert.equal(life.handshaking, true);
    assert.equal(life.welcomed, false);
    assert.equal(life.over, false);
  });

  test('moves only along the legal transitions; every other move throws and leaves the state as it was', () => {
    const states = Object.values(SessionState);
    for (const from of states) {
      for (const to of states) {
        const { life } = lifecycle();
        for (const step of PATHS[from]) life.moveTo(step);
        assert.equal(life.state, from);
        if (LEGAL[from].includes(to)) {
          life.moveTo(to);
          assert.equal(life.state, to, `${from} → ${to}`);
        } else {
          assert.throws(() => life.moveTo(to), new RegExp(`session state ${from} cannot move to ${to}`), `${from} → ${to} must be refused`);
          assert.equal(life.state, from);
        }
      }
    }
  });

  test('the welcome is remembered through a lost connection, a resume and the end', () => {
    const { life } = lifecycle();
    life.moveTo(Open);
    life.moveTo(Away);
    assert.equal(life.welcomed, true);
    assert.equal(life.away, true);
    life.moveTo(Open);
    life.moveTo(Ended);
    assert.equal(life.welcomed, true);
    assert.equal(life.over, true);
  });

  test('a close keeps its first reason; a close for a takeover ends as Moved', () => {
    const { life } = lifecycle();
    life.moveTo(Open);
    life.closing(DisconnectReason.SlowConsumer);
    life.closing(DisconnectReason.AuthExpired);
    assert.equal(life.state, Closing);
    assert.equal(life.closeReason, DisconnectReason.SlowConsumer);
    assert.equal(life.endState, Ended);

    const moving = lifecycle().life;
    moving.moveTo(Open);
    moving.closing(DisconnectReason.TransportClosed, true);
    assert.equal(moving.endState, Moved);
    moving.moveTo(moving.endState);
    assert.equal(moving.moved, true);
    assert.equal(moving.over, true);
  });

  test('one deadline at a time on the server clock, cancelled without coming due', () => {
    let due = 0;
    const { life, clock } = lifecycle(() => due++);
    life.scheduleDeadline(Date.now() + 60_000);
    life.scheduleDeadline(Date.now() + 120_000);
    assert.equal(clock.size, 1, 'rescheduled, not added');
    life.cancelDeadline();
    assert.equal(clock.size, 0);
    assert.equal(due, 0);
    // What the clock does when the time comes: the entry leaves the heap, then its owner hears.
    life.deadlineDue();
    assert.equal(due, 1);
  });
});
