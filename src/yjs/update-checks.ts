import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness';
import { ReplyError } from '../server/index.js';
import { YjsErrorCode } from './messages.js';

/**
 * Checks that run before anything touches a document: bytes from a client are applied to
 * scratch copies first, so what Yjs cannot read is refused whole and never half-applied.
 */

/** The update as bytes, or `malformed_update`. */
export function updateBytes(value: unknown, what = 'update'): Uint8Array {
  if (!(value instanceof Uint8Array)) throw malformed(`${what} must be binary (a Uint8Array), got ${describe(value)}`);
  return value;
}

/** Refuse an update Yjs cannot read or integrate, trying it on an empty scratch document. */
export function checkUpdate(update: Uint8Array): void {
  // A fixed guid: a Y.Doc otherwise makes a random uuid, the largest part of this check's cost.
  const scratch = new Y.Doc({ gc: false, guid: 'update-check' });
  try {
    Y.decodeUpdate(update);
    Y.applyUpdate(scratch, update);
  } catch (err) {
    throw malformed(`the update is not a Yjs update Yjs can read: ${(err as Error)?.message ?? String(err)}`, err);
  } finally {
    scratch.destroy();
  }
}

/** Refuse a state vector Yjs cannot read (the sync request's). */
export function checkStateVector(stateVector: Uint8Array): void {
  try {
    Y.decodeStateVector(stateVector);
  } catch (err) {
    throw malformed(`stateVector is not a Yjs state vector: ${(err as Error)?.message ?? String(err)}`, err);
  }
}

/**
 * Reads awareness updates on one scratch Awareness, reset after every check: a message that
 * throws part-way is refused before it reaches a document's awareness.
 */
export class AwarenessCheck {
  readonly #doc = new Y.Doc();
  readonly #scratch = new Awareness(this.#doc);

  constructor() {
    // The scratch has no state of its own, so no message is treated as naming it.
    this.#scratch.setLocalState(null);
    clearInterval(this.#scratch._checkInterval);
  }

  /** The clientIDs the message names (with a state, or null for a removal), or `malformed_update`. */
  clientsOf(update: Uint8Array): { present: number[]; removed: number[] } {
    const scratch = this.#scratch;
    scratch.states.clear();
    scratch.meta.clear();
    try {
      applyAwarenessUpdate(scratch, update, null);
      const present: number[] = [];
      const removed: number[] = [];
      for (const clientID of scratch.meta.keys()) (scratch.states.has(clientID) ? present : removed).push(clientID);
      for (const [clientID, state] of scratch.states) {
        // JSON objects only: y-protocols assumes a state is an object (or null).
        if (typeof state !== 'object' || state === null) throw new Error(`the state of client ${clientID} is not an object`);
      }
      return { present, removed };
    } catch (err) {
      throw malformed(`the awareness update is not one y-protocols can read: ${(err as Error)?.message ?? String(err)}`, err);
    } finally {
      scratch.states.clear();
      scratch.meta.clear();
    }
  }

  destroy(): void {
    this.#scratch.destroy();
    this.#doc.destroy();
  }
}

function malformed(message: string, cause?: unknown): ReplyError {
  return new ReplyError(YjsErrorCode.MalformedUpdate, message, cause === undefined ? undefined : { cause });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
