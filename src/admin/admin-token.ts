import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The admin token, kept as its SHA-256: comparing digests of equal length with
 * timingSafeEqual takes the same time whatever the offered token is, so its timing tells
 * an attacker neither the token's length nor how many of its first characters matched.
 */
export class AdminToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = digest(token);
  }

  /** Whether `auth` (the handshake's auth payload) is `{ token }` with this token. */
  accepts(auth: unknown): boolean {
    const offered = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    // A missing token is compared too: the answer takes as long as for a wrong one.
    return timingSafeEqual(digest(typeof offered === 'string' ? offered : ''), this.#digest) && typeof offered === 'string';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
