import type { WelcomeFrame } from '../protocol/frames.js';

/**
 * What the client knows of its server session between sockets: enough to ask for it back
 * (id, token, the count of frames received) and what it still owes it.
 */
export interface SessionMirror {
  /** The id of the session the token belongs to, once a welcome named one. */
  readonly sessionId: string | undefined;
  /** The latest welcome.resume: presented in the next hello to resume the session. */
  readonly resumeToken: string | undefined;
  /** Bumped whenever the server session is gone, so replies to its requests are not sent into another. */
  readonly epoch: number;
  /**
   * Frames received in the session after its welcomes (welcomes not counted). A resume
   * presents it, and the server sends again every frame after it: those lost in flight too.
   */
  readonly received: number;
  /** Replies to server requests that finished while the socket was down (and frames a failed upgrade held back): sent if the session resumes. */
  readonly heldReplies: readonly string[];
  /** Namespaces the app closed while the socket was down that the session still holds: disconnected on resume. */
  readonly leftWhileAway: readonly string[];
}

export const NO_SESSION: SessionMirror = { sessionId: undefined, resumeToken: undefined, epoch: 0, received: 0, heldReplies: [], leftWhileAway: [] };

/**
 * - resumed: the same session on the same node, with everything it had, frames in flight included
 * - restored: the same session taken over by another node of a cluster, without the frames in flight
 * - new: another session; nothing of the old one is left on the server
 */
export type WelcomeOutcome = 'resumed' | 'restored' | 'new';

/** What the client does about a welcome, besides taking the socket into use. */
export interface WelcomeStep {
  outcome: WelcomeOutcome;
  /** The session as the client mirrors it from this welcome on. */
  mirror: SessionMirror;
  /** Replies owed to the server from before the drop, to send first (resumed only). */
  replay: readonly string[];
  /** Namespaces the app closed while away that the session still holds: `disconnect` them next. */
  disconnect: readonly string[];
  /**
   * The client's requests of before the welcome: every one that may run twice re-sent with
   * its ref (`resend`); only the reliable publishes re-sent, the others failed
   * `disconnected` (`resend_reliable`); all failed, reliable publishes `unconfirmed` (`fail`).
   */
  requests: 'resend' | 'resend_reliable' | 'fail';
  /** True: the namespaces the session held are still connected, with their rooms. False: connect them and rejoin their rooms from their positions. */
  keepNamespaces: boolean;
  /** Set when what the server had of the old session is gone (restored, new): why, for the requests that fail. */
  lost?: string;
}

export const SESSION_MOVED = 'the session moved to another server node; frames in flight were lost';
export const SESSION_NOT_RESUMED = 'the server did not resume the session (it expired or ended, or the server restarted)';

/**
 * Read a welcome against what the client had. `presented` is the token the hello of this
 * attempt carried: a server cannot resume what it was not offered, so a welcome that claims
 * to without it (or names another session) starts a new one.
 */
export function meetWelcome(
  welcome: Pick<WelcomeFrame, 'sid' | 'resume' | 'resumed' | 'restored'>,
  had: SessionMirror,
  presented: string | undefined,
): WelcomeStep {
  const same = presented !== undefined && welcome.sid === had.sessionId;
  const resumeToken = typeof welcome.resume === 'string' && welcome.resume !== '' ? welcome.resume : undefined;
  if (same && welcome.resumed === true) {
    return {
      outcome: 'resumed',
      mirror: { ...had, resumeToken, heldReplies: [], leftWhileAway: [] },
      replay: had.heldReplies,
      disconnect: had.leftWhileAway,
      requests: 'resend',
      keepNamespaces: true,
    };
  }
  if (same && welcome.restored === true) {
    // Another node took the session over: it knows the namespaces, the rooms and the handled reliable publishes, not the frames in flight.
    return {
      outcome: 'restored',
      mirror: { ...had, resumeToken, received: 0, heldReplies: [], leftWhileAway: [] },
      replay: [],
      disconnect: had.leftWhileAway,
      requests: 'resend_reliable',
      keepNamespaces: false,
      lost: SESSION_MOVED,
    };
  }
  return {
    outcome: 'new',
    mirror: { ...endedMirror(had), sessionId: welcome.sid, resumeToken },
    replay: [],
    disconnect: [],
    requests: 'fail',
    keepNamespaces: false,
    lost: SESSION_NOT_RESUMED,
  };
}

/** The server session is gone: nothing the client owed it or counted of it matters any more. */
export function endedMirror(had: SessionMirror): SessionMirror {
  return { ...had, epoch: had.epoch + 1, received: 0, heldReplies: [], leftWhileAway: [] };
}
