/**
 * Sign-in for the demo: a name, kept in an HttpOnly cookie signed by the server
 * (`<name>.<HMAC-SHA256>`). The server issues it; the middleware and the HTTP handlers
 * only believe a cookie whose signature checks, so a page cannot claim another user by
 * sending a name. A real shop would use its own session store or JWTs.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'shop_session';

/** Names are user ids: short, plain, lower-case. */
const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export function checkName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const name = raw.trim().toLowerCase();
  return NAME.test(name) ? name : undefined;
}

export class SessionCookies {
  private readonly secret: Buffer;

  /** `secret`: every process of one shop needs the same (SHOP_SECRET); a random one otherwise. */
  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** The cookie value for `name`. */
  issue(name: string): string {
    return `${name}.${this.sign(name)}`;
  }

  /** The user a cookie value names, when its signature checks. */
  verify(value: string | undefined): string | undefined {
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    const name = checkName(value.slice(0, dot));
    if (dot < 0 || name === undefined || name !== value.slice(0, dot)) return undefined;
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.sign(name));
    return given.length === expected.length && timingSafeEqual(given, expected) ? name : undefined;
  }

  /** `Set-Cookie` header values. */
  setCookie(name: string): string {
    return `${SESSION_COOKIE}=${this.issue(name)}; Path=/; HttpOnly; SameSite=Lax`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
  }

  private sign(name: string): string {
    return createHmac('sha256', this.secret).update(name).digest('base64url');
  }
}

/** The cookies of a request's Cookie header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key) cookies[key] = part.slice(eq + 1).trim();
  }
  return cookies;
}
