/**
 * The receive-mostly path of the SDK: `transports: ['sse']` for a page that listens to its
 * user's durable channel and seldom sends. Against the real server, with the Node client's
 * fetch watched: what goes up (one POST per heartbeat carrying the pong and the ack, no
 * WebSocket probe), and the user channel recovered exactly once across a dropped stream
 * (the session resumes) and across a lost session (the SDK rejoins with `since`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type SwitchboardClient, userRoom } from '../../src/client/node.js';
import { ReplyError, type Switchboard } from '../../src/server/index.js';
import { eventually, startServer } from '../helpers/server.js';

/** The frames of every POST to {path}/send, in order, as the client sent them. */
const posts: { url: string; frames: { type: string }[] }[] = [];
const realFetch = globalThis.fetch;

before(() => {
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (init?.method === 'POST' && url.includes('/send?')) {
      const parsed = JSON.parse(String(init.body)) as { type: string } | { type: string }[];
      posts.push({ url, frames: Array.isArray(parsed) ? parsed : [parsed] });
    }
    return realFetch(input, init);
  };
});
after(() => {
  globalThis.fetch = realFetch;
});

const fastReconnect = { reconnect: { delay: 20, maxDelay: 60 } };

/** A server whose middleware takes the user from `auth.user`, with durable user channels. */
async function userServer(options: Parameters<typeof startServer>[0] = {}): Promise<{ sb: Switchboard; url: string }> {
  const { sb, url } = await startServer({ transports: ['sse'], ...options });
  sb.durableUsers();
  sb.use((socket, next) => {
    const user = (socket.handshake.auth as { user?: unknown } | undefined)?.user;
    if (typeof user !== 'string') return next(new ReplyError('unauthorized', 'no user'));
    socket.user = user;
    next();
  });
  return { sb, url };
}

function sseClient(url: string, user: string): SwitchboardClient {
  return connect(url, { transports: ['sse'], auth: { user }, ...fastReconnect });
}

describe('transports: [\'sse\'] for a receive-mostly client', () => {
  test('one POST per heartbeat, carrying the pong and the ack; nothing else goes up while idle, and no WebSocket is tried', async () => {
    const { sb, url } = await userServer({ heartbeat: { interval: 150, timeout: 5000 } });
    const client = connect(url, {
      transports: ['sse'],
      auth: { user: 'ada' },
      WebSocket: class {
        constructor() {
          throw new Error('a receive-only client never opens a WebSocket');
        }
      } as never,
    });
    try {
      await eventually(() => client.connected, 'connected');
      const pongs = (): number => posts.filter((p) => p.frames.some((f) => f.type === 'pong')).length;
      await eventually(() => pongs() >= 1, 'the first pong');
      const first = posts.findIndex((p) => p.frames.some((f) => f.type === 'pong'));
      // Eight heartbeats: well past the SDK's one-second ack delay, after which a lone ack would go up.
      await eventually(() => pongs() >= 8, 'eight pongs', 15_000);
      const idle = posts.slice(first);
      assert.ok(idle.length >= 8);
      for (const post of idle) {
        assert.deepEqual(post.frames.map((f) => f.type), ['pong', 'ack'], 'each POST is one heartbeat answer with the acknowledgement');
      }
      assert.equal(client.transport, 'sse');
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('the user channel, pushed while the stream is down, arrives once and in order when the session resumes', async () => {
    const { sb, url } = await userServer();
    const client = sseClient(url, 'ada');
    const got: number[] = [];
    client.on('n', (n: number) => void got.push(n));
    try {
      await client.join(userRoom('ada'));
      for (let i = 1; i <= 3; i++) await sb.toUser('ada').publish('n', i);
      await eventually(() => got.length === 3, 'three live');
      const resumed = new Promise<boolean>((resolve) => client.once('connect', (info) => resolve(info.resumed)));
      // Drop the event stream under the client: as a network loss does (1006, the session is kept).
      await dropStreams(sb);
      for (let i = 4; i <= 6; i++) await sb.toUser('ada').publish('n', i);
      assert.equal(await resumed, true);
      await eventually(() => got.length >= 6, 'all six');
      assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    } finally {
      client.close();
      await sb.close();
    }
  });

  test('a new session (the server forgot the old one) rejoins the user channel with since: the gap once, reported by recovery', async () => {
    const { sb, url } = await userServer({ resume: { ttl: 1, silentTtl: 1 } });
    const client = sseClient(url, 'ada');
    const got: number[] = [];
    client.on('n', (n: number) => void got.push(n));
    try {
      await client.join(userRoom('ada'));
      for (let i = 1; i <= 2; i++) await sb.toUser('ada').publish('n', i);
      await eventually(() => got.length === 2, 'two live');
      const recovery = new Promise<boolean>((resolve) => client.once('recovery', (info) => resolve(info.recovered)));
      const connected = new Promise<boolean>((resolve) => client.once('connect', (info) => resolve(info.resumed)));
      await dropStreams(sb);
      for (let i = 3; i <= 5; i++) await sb.toUser('ada').publish('n', i);
      assert.equal(await connected, false, 'a new session');
      assert.equal(await recovery, true);
      await sb.toUser('ada').publish('n', 6);
      await eventually(() => got.length >= 6, 'all six');
      assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    } finally {
      client.close();
      await sb.close();
    }
  });
});

/** Cut every TCP connection of the server, the event streams among them, without a close: a network loss. */
async function dropStreams(sb: Switchboard): Promise<void> {
  sb.httpServer.closeAllConnections();
}
