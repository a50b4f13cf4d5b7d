/**
 * Everything `switchboard connect` reports, as data. The `--json` mode writes each one as
 * a line of JSON as it is; the interactive mode renders it readably (text-output.ts).
 * docs/OPERATIONS.md documents these shapes: change them together.
 */
import type { StreamPosition } from '../../protocol/frames.js';
import type { ActionName, CommandId } from './actions.js';

export interface ErrorInfo {
  code: string;
  message: string;
}

export type ConnectOutput =
  /** The connection's state changed (the SDK's `state` event). */
  | {
      type: 'state';
      time: string;
      state: string;
      previous: string;
      reason: string;
      closeCode?: number;
      error?: ErrorInfo;
      /** When connected: the session id, the transport, and whether the session was resumed. */
      id?: string;
      transport?: string;
      resumed?: boolean;
    }
  /** A retry is scheduled after `delay` ms. */
  | { type: 'reconnecting'; time: string; attempt: number; delay: number; reason: string }
  /** An event from the server. `room` and `position` when the server sent them. */
  | { type: 'event'; time: string; event: string; data?: unknown; room?: string; position?: StreamPosition }
  /** Someone came into or left a room with presence tracking. */
  | { type: 'presence'; time: string; room: string; kind: 'join' | 'leave'; user: string; info: unknown }
  /** A durable room was rejoined after a reconnect. */
  | { type: 'recovery'; time: string; room: string; recovered: boolean; position: StreamPosition }
  /** A command succeeded. `ms`: the round trip, for commands that wait for the server. */
  | { type: 'reply'; cmd: ActionName; id?: CommandId; data?: unknown; ms?: number }
  /** A command failed (`cmd` set), a line could not be read (`bad_command`), or the server reported an error (neither). */
  | { type: 'error'; cmd?: ActionName; id?: CommandId; code: string; message: string; ms?: number };

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'internal_error', message: error.message };
  }
  return { code: 'internal_error', message: String(error) };
}
