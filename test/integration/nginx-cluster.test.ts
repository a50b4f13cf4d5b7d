/**
 * Three Switchboard processes with the Redis adapter behind a real nginx doing plain
 * round-robin — the several-nodes configuration of docs/DEPLOYMENT.md, read from that file
 * — and SDK clients on each transport going through nginx: events both ways, rooms across
 * nodes, a durable room and its history, presence, a WebSocket upgrade that lands on
 * another node, and a node killed with SIGKILL mid-stream.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { type ClientOptions, connect, type ConnectInfo, type PresenceEvent, type SwitchboardClient } from '../../src/client/node.js';
import { forgetRememberedTransports } from '../../src/client/transport-choice.js';
import { Emitter } from '../../src/cluster/redis/index.js';
import { type ClusterProcess, startNodes } from '../helpers/cluster-processes.js';
import { documentedNginxBlock, Nginx, replaceLines } from '../helpers/nginx.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { eventually } from '../helpers/server.js';

interface Pos {
  epoch: string;
  offset: number;
}
type Kind = 'websocket' | 'sse' | 'polling';
const KINDS: readonly Kind[] = ['websocket', 'sse', 'polling'];

/** Presence liveness of the nodes: a killed node's users are gone within TTL + RENEW. */
const PRESENCE = { nodeTtl: 1000, renewInterval: 200 };
const RECONNECT = { delay: 100, maxDelay: 500 };
const HISTORY = { maxMessages: 10_000, maxAge: 600_000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// --- the documented configuration -------------------------------------------------------

/** The marker of the single-node configuration (nginx-proxy.test.ts runs it) and of this file's upstream block. */
const SITE_MARKER = 'read and run by test/integration/nginx-proxy.test.ts';
const CLUSTER_MARKER = 'in test/integration/nginx-cluster.test.ts';

/**
 * The documented site with the documented three-node upstream in place of its own, on
 * 127.0.0.1:`port` without TLS, the upstream servers at `ports`; plus an access log naming
 * the node that answered each request (`upstreamLog`), which only this test needs.
 */
function clusterConfig(port: number, ports: readonly number[], upstreamLog: string): string {
  const site = documentedNginxBlock(SITE_MARKER);
  const upstream = documentedNginxBlock(CLUSTER_MARKER);
  assert.doesNotMatch(upstream, /^\s*(ip_hash|hash|sticky)\b/m, 'the documented cluster upstream must be plain round-robin');
  const documented = upstream.split('\n').filter((line) => /^server 127\.0\.0\.1:\d+;$/.test(line.trim()));
  assert.equal(documented.length, ports.length, `the documented upstream lists ${documented.length} servers; this test runs ${ports.length} nodes`);
  let servers = upstream;
  documented.forEach((line, i) => (servers = replaceLines(servers, line.trim(), [`server 127.0.0.1:${ports[i]};`])));
  const siteUpstream = /upstream switchboard \{[^}]*\}\n/.exec(site);
  assert.ok(siteUpstream, 'the documented configuration has no "upstream switchboard { … }" block');
  let text = site.replace(siteUpstream[0], servers);
  text = replaceLines(text, 'listen 443 ssl;', [`listen 127.0.0.1:${port};`]);
  text = replaceLines(text, /^ssl_certificate(_key)?\s/, []);
  return `log_format upstreams '$request $status $upstream_addr';\naccess_log ${upstreamLog} upstreams;\n\n${text}`;
}

// --- clients ----------------------------------------------------------------------------

/** An SDK client through nginx, and what it saw. */
interface Member {
  client: SwitchboardClient;
  kind: Kind;
  user: string;
  /** The node its session is on (`whoami`), when last asked. */
  home: string;
  /** Numbers of the `n` events of durable rooms, and their offsets, in order of arrival. */
  numbers: number[];
  offsets: number[];
  recoveries: boolean[];
  connects: ConnectInfo[];
  presence: PresenceEvent[];
}

describe('three nodes with the Redis adapter behind nginx round-robin (docs/DEPLOYMENT.md)', { timeout: 60_000 }, () => {
  let redis: Redis;
  const prefix = testPrefix('nginx-cluster');
  let nodes: ClusterProcess[] = [];
  let nginx: Nginx;
  let logDir: string;
  let url: string;
  const members: Member[] = [];

  before(async () => {
    redis = await connectRedis();
    nodes = await startNodes(['a', 'b', 'c'], { redisUrl: REDIS_URL, prefix, presence: PRESENCE });
    logDir = mkdtempSync(join(tmpdir(), 'sb-nginx-cluster-'));
    nginx = await Nginx.start({ http: (port) => clusterConfig(port, nodes.map((n) => n.port), join(logDir, 'upstreams.log')) });
    url = `ws://127.0.0.1:${nginx.port}/ws`;
  });

  after(async () => {
    for (const m of members) m.client.close();
    await nginx?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropKeys(redis, prefix);
    redis.disconnect();
    rmSync(logDir, { recursive: true, force: true });
  });

  /** `$request $status $upstream_addr` of every request nginx answered so far. */
  function upstreamLog(): { request: string; status: number; upstream: string }[] {
    let text = '';
    try {
      text = readFileSync(join(logDir, 'upstreams.log'), 'utf8');
    } catch {
      // nothing logged yet
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [, request = '', status = '0', upstream = ''] = /^(.*) (\d{3}) (\S+)$/.exec(line) ?? [];
        return { request, status: Number(status), upstream };
      });
  }

  const nodeName = (addr: string): string => nodes.find((n) => addr.endsWith(`:${n.port}`))?.name ?? addr;

  /** A client of `user` on `kind` only, through nginx, connected and with its home node known. */
  async function member(kind: Kind, user: string, options: ClientOptions = {}): Promise<Member> {
    const client = connect(url, { transports: [kind], auth: { user }, reconnect: RECONNECT, ...options });
    const m: Member = { client, kind, user, home: '', numbers: [], offsets: [], recoveries: [], connects: [], presence: [] };
    members.push(m);
    client.on('connect', (info) => m.connects.push(info));
    client.on('n', (data, meta) => {
      m.numbers.push((data as { n: number }).n);
      m.offsets.push((meta.position as Pos).offset);
    });
    client.on('recovery', (info) => m.recoveries.push(info.recovered));
    client.on('presence', (event) => m.presence.push(event));
    m.home = (await client.emitWithAck('whoami')) as string;
    if (!options.upgrade) assert.equal(client.transport, kind);
    else assert.equal(m.connects.length, 1);
    return m;
  }

  test('clients on every transport, spread by round-robin: requests, events both ways, rooms across nodes, a durable room with history, presence', async () => {
    const group: Member[] = [];
    for (const kind of KINDS) for (const i of [1, 2]) group.push(await member(kind, `${kind}${i}`));
    const homes = new Set(group.map((m) => m.home));
    assert.ok(homes.size >= 2, `round-robin put every session on node ${[...homes].join()}`);

    // Events both ways, across nodes: each client asks its node to shout into the lobby; everyone hears everyone once.
    for (const m of group) await m.client.join('lobby');
    const heard = new Map<Member, string[]>(group.map((m) => [m, []]));
    for (const m of group) m.client.on('hi', (data) => void heard.get(m)!.push((data as { from: string }).from));
    for (const m of group) assert.equal(await m.client.emitWithAck('shout', { room: 'lobby', event: 'hi', data: { from: m.user } }), true);
    const everyone = group.map((m) => m.user).sort();
    for (const m of group) await eventually(() => heard.get(m)!.length >= group.length, `${m.user} (${m.kind} on ${m.home}) to hear ${group.length} shouts`, 5000);
    await sleep(200);
    for (const m of group) assert.deepEqual([...heard.get(m)!].sort(), everyone, `${m.user} (${m.kind} on ${m.home}): every shout once`);

    // A durable room: publications from every client, through whichever node, in one cluster-wide order.
    for (const m of group) await m.client.join('feed:lobby');
    const total = 3 * group.length;
    for (let n = 1; n <= total; n++) {
      const by = group[n % group.length] as Member;
      const position = (await by.client.emitWithAck('publish', { room: 'feed:lobby', event: 'n', data: { n } })) as Pos;
      assert.equal(position.offset, n, `publish ${n} by ${by.user}`);
    }
    for (const m of group) await eventually(() => m.numbers.length >= total, `${m.user} (${m.kind} on ${m.home}) to see ${total} publications`, 5000);
    for (const m of group) {
      assert.deepEqual(m.numbers, range(1, total), `${m.user} (${m.kind}): every publication once, in order`);
      assert.deepEqual(m.offsets, range(1, total));
    }
    // History read by a newcomer, on whichever node nginx gives it.
    const reader = await member('polling', 'reader');
    const history = await reader.client.history('feed:lobby');
    assert.deepEqual(
      history.publications.map((p) => [p.event, (p.data as { n: number }).n, p.position.offset]),
      range(1, total).map((n) => ['n', n, n]),
    );
    assert.equal(history.position.offset, total);

    // Presence across nodes: everyone is listed, a newcomer's join and leave reach every member once.
    for (const m of group) await m.client.join('room:lobby');
    const members = await group[2]!.client.presence('room:lobby');
    assert.deepEqual(members, everyone.map((user) => ({ user, info: { name: user } })));
    const before = new Map(group.map((m) => [m, m.presence.length]));
    const late = await member('sse', 'late');
    await late.client.join('room:lobby');
    const seen = (m: Member): PresenceEvent[] => m.presence.slice(before.get(m)).filter((e) => e.user === 'late');
    for (const m of group) await eventually(() => seen(m).length >= 1, `${m.user} (${m.kind} on ${m.home}) to see late join`, 5000);
    late.client.close();
    for (const m of group) await eventually(() => seen(m).length >= 2, `${m.user} (${m.kind} on ${m.home}) to see late leave`, 5000);
    await sleep(200);
    for (const m of group) {
      assert.deepEqual(
        seen(m).map((e) => [e.room, e.kind]),
        [
          ['room:lobby', 'join'],
          ['room:lobby', 'leave'],
        ],
        `${m.user}: late's join and leave, once each`,
      );
    }

    // No sticky routing: the HTTP transports' requests reached every node, and none met a node that did not know its connection.
    const http = upstreamLog().filter((line) => /^(GET \/ws\/poll\?cid=|POST \/ws\/send\?cid=)/.test(line.request));
    assert.deepEqual(new Set(http.map((line) => nodeName(line.upstream))), new Set(['a', 'b', 'c']), 'requests of HTTP connections reached all three nodes');
    assert.deepEqual(
      upstreamLog().filter((line) => line.status >= 400),
      [],
      'no request failed',
    );
    for (const m of [...group, reader]) assert.deepEqual(m.connects, [{ resumed: false }], `${m.user} (${m.kind}) connected once, never dropped`);
  });

  test('a client that starts on long-polling and upgrades to a WebSocket that nginx sends to another node keeps its session', async () => {
    // Upgrades one client at a time until round-robin sent one to a node other than the one
    // holding its polling connection (or an upgrade went wrong: a second connect, a new id).
    const movers: { m: Member; id: string | undefined; now: string }[] = [];
    const crossedOrDisturbed = (): boolean => movers.some(({ m, id, now }) => now !== m.home || m.client.id !== id || m.connects.length > 1);
    for (let tries = 0; !crossedOrDisturbed(); tries++) {
      assert.ok(tries < 12, `round-robin never sent an upgrade to another node: ${movers.map(({ m, now }) => `${m.user} ${m.home}->${now}`).join(', ')}`);
      // The SDK remembers per URL that a WebSocket worked (a page's memory): forget it, so this one starts on polling.
      forgetRememberedTransports();
      const m = await member('polling', `mover${tries}`, { transports: ['polling', 'websocket'], upgrade: true });
      const id = m.client.id;
      await m.client.join('feed:movers');
      // The first probe comes about a second after the welcome.
      await eventually(() => m.client.transport === 'websocket' || m.connects.length > 1, `${m.user} to upgrade to a WebSocket (transport ${m.client.transport})`, 5000);
      movers.push({ m, id, now: (await m.client.emitWithAck('whoami')) as string });
    }
    // A WebSocket's line is logged when it closes: those of upgrades that failed.
    const closedUpgrades = upstreamLog()
      .filter((line) => line.request.startsWith('GET /ws HTTP/'))
      .map((line) => `${line.status} from ${nodeName(line.upstream)}`);
    const summary = `${movers.map(({ m, id, now }) => `${m.user}: node ${m.home}->${now}, id ${id}->${m.client.id}, connects ${JSON.stringify(m.connects)}`).join('; ')}; closed upgrades: ${closedUpgrades.join(', ')}`;
    // The same session, whether the WebSocket resumed it (same node) or restored it (another
    // node: the SDK may then report a reconnect, as after any move, but not a new session).
    for (const { m, id } of movers) {
      assert.equal(m.client.id, id, `${m.user} kept its session id (${summary})`);
      assert.equal(m.client.transport, 'websocket', `${m.user} ended on a WebSocket (${summary})`);
    }
    const position = (await movers[0]!.m.client.emitWithAck('publish', { room: 'feed:movers', event: 'n', data: { n: 1 } })) as Pos;
    assert.equal(position.offset, 1);
    for (const { m } of movers) await eventually(() => m.numbers.length >= 1, `${m.user} still in its room after the upgrade`, 5000);
    await sleep(200);
    for (const { m } of movers) assert.deepEqual(m.numbers, [1], `${m.user}: the publication once`);
  });

  test('SIGKILL of a node mid-stream: clients on every transport come back on a survivor with the same session and every durable number once, in order', async (t) => {
    const crew: Member[] = [];
    for (const kind of KINDS) for (const i of [1, 2, 3]) crew.push(await member(kind, `crew-${kind}${i}`));
    // The victim: a node holding a session of every transport (connect more until one does).
    const covered = (name: string): Kind[] => KINDS.filter((kind) => crew.some((m) => m.kind === kind && m.home === name));
    let victimName = nodes.map((n) => n.name).sort((x, y) => covered(y).length - covered(x).length)[0] as string;
    for (const kind of KINDS) {
      for (let tries = 0; !covered(victimName).includes(kind); tries++) {
        assert.ok(tries < 20, `round-robin never put a ${kind} session on node ${victimName}`);
        crew.push(await member(kind, `crew-${kind}-extra${tries}`));
      }
    }
    const victim = nodes.find((n) => n.name === victimName) as ClusterProcess;
    const ids = new Map(crew.map((m) => [m, m.client.id]));
    for (const m of crew) {
      await m.client.join('feed:crash');
      await m.client.join('room:crash');
    }
    const watcher = crew.find((m) => m.home !== victimName) as Member;

    const emitter = new Emitter(REDIS_URL, { prefix }).durable(/^feed/, HISTORY);
    const total = 300;
    const killAt = 100;
    let killed: Promise<void> | undefined;
    try {
      for (let n = 1; n <= total; n++) {
        await emitter.to('feed:crash').publish('n', { n });
        if (n === killAt) killed = victim.kill();
        await sleep(5);
      }
    } finally {
      await emitter.close();
    }
    await killed;
    assert.equal((await victim.exited).signal, 'SIGKILL');

    for (const m of crew) {
      await eventually(() => m.numbers.length >= total, `${m.user} (${m.kind}, was on ${m.home}) to see ${total} numbers; it has ${m.numbers.length}`, 15_000);
    }
    await sleep(300);
    const now = new Map<Member, string>();
    for (const m of crew) now.set(m, (await m.client.emitWithAck('whoami')) as string);
    t.diagnostic(`victim ${victimName}; ${crew.map((m) => `${m.kind}:${m.home}->${now.get(m)} connects ${m.connects.length}`).join(', ')}`);
    for (const m of crew) {
      const who = `${m.user} (${m.kind}, was on ${m.home}, now on ${now.get(m)}; connects ${JSON.stringify(m.connects)})`;
      assert.deepEqual(m.numbers, range(1, total), `${who}: every number once, in order`);
      assert.deepEqual(m.offsets, range(1, total), `${who}: positions 1..${total}`);
      assert.ok(m.recoveries.every((ok) => ok), `${who}: told recovered:false although history holds the gap`);
      assert.equal(m.client.id, ids.get(m), `${who}: the same session id (restored, not a new session)`);
      assert.equal(m.client.transport, m.kind, `${who}: still on its transport`);
      assert.notEqual(now.get(m), victimName, `${who}: answered by the dead node`);
      if (m.home === victimName) assert.ok(m.connects.length >= 2, `${who}: reconnected`);
    }
    // The survivors' nginx: the dead node's requests went elsewhere; none of the clients reports an error frame.
    assert.match(nginx.errorLog(), /Connection refused|prematurely closed|reset by peer/);

    // Presence ends right: every user of the crew is a member again (the dead node's entries expired, the restored sessions count).
    const users = crew.map((m) => m.user).sort();
    const bound = Date.now() + PRESENCE.nodeTtl + PRESENCE.renewInterval + 3000;
    let listed: string[] = [];
    for (;;) {
      listed = (await watcher.client.presence('room:crash')).map((e) => e.user);
      if (JSON.stringify(listed) === JSON.stringify(users) || Date.now() > bound) break;
      await sleep(100);
    }
    assert.deepEqual(listed, users, 'presence lists every user of the crew once (the dead node\'s entries expired, the restored sessions count)');
  });
});
