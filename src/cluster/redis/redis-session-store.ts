import type { Redis } from 'ioredis';
import type { SessionSnapshot, SessionStore } from '../session-store.js';

/*
 * Keys (P = prefix):
 *   P:session:<sid>          HASH snap (JSON snapshot), owner (node id), tokens (JSON list)
 *   P:session-token:<token>  STRING sid
 * Both expire with the session's TTL, renewed while its node holds it.
 */

/** Save: replace the snapshot, make this node the owner, point the tokens at the session. */
const SAVE = `
redis.call('HSET', KEYS[1], 'snap', ARGV[1], 'owner', ARGV[2], 'tokens', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[5], 'PX', ARGV[4]) end
return 1
`;

/** Touch: extend each session (KEYS) and its tokens. */
const TOUCH = `
for i = 1, #KEYS do
  if redis.call('PEXPIRE', KEYS[i], ARGV[1]) == 1 then
    local tokens = cjson.decode(redis.call('HGET', KEYS[i], 'tokens') or '[]')
    for _, t in ipairs(tokens) do redis.call('PEXPIRE', ARGV[2] .. t, ARGV[1]) end
  end
end
return 1
`;

/**
 * Take: the session a token names, if the token is still one of its tokens (a rotated-out
 * token must not take the session back); the caller becomes the owner and the token is
 * spent atomically, so two nodes resuming with the same token cannot both get it.
 * Returns { snap, previous owner }.
 */
const TAKE = `
local sid = redis.call('GET', KEYS[1])
if not sid then return nil end
local key = ARGV[1] .. sid
local s = redis.call('HMGET', key, 'snap', 'owner', 'tokens')
if not s[1] then return nil end
local tokens = cjson.decode(s[3])
local known = false
for _, t in ipairs(tokens) do if t == ARGV[2] then known = true end end
if not known then return nil end
if ARGV[4] == '1' then
  -- Kept (a client with one token for the session's life): it goes on naming the session, now the taker's.
  redis.call('HSET', key, 'owner', ARGV[3])
else
  -- Spent: the taker issues its own token (its next save); a second take with this one fails.
  redis.call('HSET', key, 'owner', ARGV[3], 'tokens', '[]')
  redis.call('DEL', KEYS[1])
end
return { s[1], s[2] }
`;

/** Drop: only the owner forgets a session (a node that lost it to another must not erase the other's). */
const DROP = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local tokens = cjson.decode(redis.call('HGET', KEYS[1], 'tokens') or '[]')
for _, t in ipairs(tokens) do redis.call('DEL', ARGV[2] .. t) end
redis.call('DEL', KEYS[1])
return 1
`;

type Scripts = {
  sbSessionSave(...args: (string | number)[]): Promise<number>;
  sbSessionTouch(...args: (string | number)[]): Promise<number>;
  sbSessionTake(...args: string[]): Promise<[string, string] | null>;
  sbSessionDrop(...args: string[]): Promise<number>;
};

/** Sessions in Redis for resume on any node; see SessionStore. */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis & Scripts;

  constructor(
    redis: Redis,
    private readonly node: string,
    private readonly prefix = 'sb',
  ) {
    redis.defineCommand('sbSessionSave', { lua: SAVE });
    redis.defineCommand('sbSessionTouch', { lua: TOUCH });
    redis.defineCommand('sbSessionTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('sbSessionDrop', { numberOfKeys: 1, lua: DROP });
    this.redis = redis as Redis & Scripts;
  }

  async save(snapshot: SessionSnapshot, tokens: readonly string[], ttlMs: number): Promise<void> {
    const keys = [this.sessionKey(snapshot.sid), ...tokens.map((t) => this.tokenKey(t))];
    await this.redis.sbSessionSave(keys.length, ...keys, JSON.stringify(snapshot), this.node, JSON.stringify(tokens), Math.ceil(ttlMs), snapshot.sid);
  }

  async touch(sids: readonly string[], ttlMs: number): Promise<void> {
    // In slices: one script call must not hold Redis for long.
    for (let i = 0; i < sids.length; i += 500) {
      const keys = sids.slice(i, i + 500).map((sid) => this.sessionKey(sid));
      await this.redis.sbSessionTouch(keys.length, ...keys, Math.ceil(ttlMs), `${this.prefix}:session-token:`);
    }
  }

  async take(token: string, options: { keep?: boolean } = {}): Promise<{ snapshot: SessionSnapshot; owner: string } | undefined> {
    const taken = await this.redis.sbSessionTake(this.tokenKey(token), `${this.prefix}:session:`, token, this.node, options.keep ? '1' : '0');
    if (!taken) return undefined;
    return { snapshot: JSON.parse(taken[0]) as SessionSnapshot, owner: taken[1] };
  }

  async drop(sid: string): Promise<void> {
    await this.redis.sbSessionDrop(this.sessionKey(sid), this.node, `${this.prefix}:session-token:`);
  }

  async exists(sid: string): Promise<boolean> {
    return (await this.redis.exists(this.sessionKey(sid))) === 1;
  }

  private sessionKey(sid: string): string {
    return `${this.prefix}:session:${sid}`;
  }

  private tokenKey(token: string): string {
    return `${this.prefix}:session-token:${token}`;
  }
}
