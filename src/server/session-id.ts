import { randomBytes } from 'node:crypto';

/** A new session id: 16 random bytes, base64url (22 characters). Unguessable: it also names the sockets' private rooms. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** Whether `name` has the shape of a session id (newSessionId), so it may be another node's session's private room. */
export function isSessionIdShaped(name: string): boolean {
  return name.length === 22 && /^[A-Za-z0-9_-]+$/.test(name);
}
