/** meetWelcome: the client's reading of a welcome against the session it had, as a pure function. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meetWelcome, NO_SESSION, SESSION_MOVED, SESSION_NOT_RESUMED, type SessionMirror } from '../../src/client/session-mirror.js';

const had: SessionMirror = Object.freeze({
  sessionId: 's1',
  resumeToken: 't1',
  epoch: 3,
  received: 7,
  heldReplies: Object.freeze(['{"type":"reply","ref":4,"data":1}']),
  leftWhileAway: Object.freeze(['/admin']),
});

const welcome = (fields: { sid?: string; resume?: string | null; resumed?: boolean; restored?: boolean } = {}) => ({
  sid: 's1',
  resume: 't2',
  resumed: false,
  ...fields,
});

describe('meetWelcome', () => {
  it('a first welcome starts a new session: its id and token are taken, nothing is owed', () => {
    const step = meetWelcome(welcome({ sid: 'a' }), NO_SESSION, undefined);
    assert.equal(step.outcome, 'new');
    assert.deepEqual(step.mirror, { sessionId: 'a', resumeToken: 't2', epoch: 1, received: 0, heldReplies: [], leftWhileAway: [] });
    assert.deepEqual([step.replay, step.disconnect, step.requests, step.keepNamespaces], [[], [], 'fail', false]);
    assert.equal(step.lost, SESSION_NOT_RESUMED);
  });

  it('resumed: the count is kept, held replies and namespace leaves are owed first, requests re-sent, namespaces kept', () => {
    const step = meetWelcome(welcome({ resumed: true }), had, 't1');
    assert.equal(step.outcome, 'resumed');
    assert.deepEqual(step.mirror, { sessionId: 's1', resumeToken: 't2', epoch: 3, received: 7, heldReplies: [], leftWhileAway: [] });
    assert.deepEqual(step.replay, had.heldReplies);
    assert.deepEqual(step.disconnect, ['/admin']);
    assert.equal(step.requests, 'resend');
    assert.equal(step.keepNamespaces, true);
    assert.equal(step.lost, undefined);
  });

  it('restored on another node: the frames in flight are gone (count reset, held replies dropped), reliable publishes re-sent, rooms rejoined', () => {
    const step = meetWelcome(welcome({ restored: true }), had, 't1');
    assert.equal(step.outcome, 'restored');
    assert.deepEqual(step.mirror, { sessionId: 's1', resumeToken: 't2', epoch: 3, received: 0, heldReplies: [], leftWhileAway: [] });
    assert.deepEqual(step.replay, []);
    assert.deepEqual(step.disconnect, ['/admin'], 'the restored session still holds the namespaces the app closed');
    assert.equal(step.requests, 'resend_reliable');
    assert.equal(step.keepNamespaces, false);
    assert.equal(step.lost, SESSION_MOVED);
  });

  it('not resumed: a new session; the epoch moves on so late replies of the old one are not sent into it', () => {
    const step = meetWelcome(welcome({ sid: 's2' }), had, 't1');
    assert.equal(step.outcome, 'new');
    assert.deepEqual(step.mirror, { sessionId: 's2', resumeToken: 't2', epoch: 4, received: 0, heldReplies: [], leftWhileAway: [] });
    assert.deepEqual([step.replay, step.disconnect, step.requests, step.keepNamespaces], [[], [], 'fail', false]);
  });

  it('a server cannot resume what it was not offered: no token presented, or another session named, is new', () => {
    assert.equal(meetWelcome(welcome({ resumed: true }), had, undefined).outcome, 'new');
    assert.equal(meetWelcome(welcome({ restored: true }), had, undefined).outcome, 'new');
    assert.equal(meetWelcome(welcome({ sid: 's9', resumed: true }), had, 't1').outcome, 'new');
    assert.equal(meetWelcome(welcome({ sid: 's9', restored: true }), had, 't1').outcome, 'new');
  });

  it('a welcome without a token (resume off) leaves nothing to present next time', () => {
    assert.equal(meetWelcome(welcome({ resume: null }), had, 't1').mirror.resumeToken, undefined);
    assert.equal(meetWelcome(welcome({ resume: '', resumed: true }), had, 't1').mirror.resumeToken, undefined);
  });
});
