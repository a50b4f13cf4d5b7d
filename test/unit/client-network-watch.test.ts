/** The SDK's reaction to network and wake signals, with an injected event target in place of a browser window. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { NetworkEnvironment, ReconnectInfo, StateChange, SwitchboardClient } from '../../src/client/node.js';
import { browserNetwork, NetworkWatch } from '../../src/client/network-watch.js';
import { resolveOptions } from '../../src/client/options.js';
import WebSocket from 'ws';
import { ONLINE_SPREAD_MS } from '../../src/client/reconnect-schedule.js';
import { nextEvent, ScriptedServer } from '../helpers/scripted-server.js';

/** A window stand-in: a real EventTarget, with navigator.onLine and document.visibilityState as fields. */
class FakeNetwork implements NetworkEnvironment {
  readonly target: EventTarget & { listenerCount: number };
  online = true;
  visible = true;

  constructor() {
    const target = new EventTarget() as EventTarget & { listenerCount: number };
    target.listenerCount = 0;
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    target.addEventListener = (type, listener) => {
      target.listenerCount++;
      add(type, listener);
    };
    target.removeEventListener = (type, listener) => {
      target.listenerCount--;
      remove(type, listener);
    };
    this.target = target;
  }

  isOnline(): boolean {
    return this.online;
  }

  isVisible(): boolean {
    return this.visible;
  }

  goOffline(): void {
    this.online = false;
    this.fire('offline');
  }

  goOnline(): void {
    this.online = true;
    this.fire('online');
  }

  fire(type: string): void {
    this.target.dispatchEvent(new Event(type));
  }
}

/** Record lifecycle events as short strings, in order. */
function record(client: SwitchboardClient): string[] {
  const log: string[] = [];
  client.on('state', (s: StateChange) => log.push(`state ${s.previous}->${s.state} ${s.reason}`));
  client.on('reconnecting', (r: ReconnectInfo) => log.push(`reconnecting #${r.attempt} ${r.reason}`));
  return log;
}

let server: ScriptedServer;
let network: FakeNetwork;
beforeEach(async () => {
  server = await ScriptedServer.start();
  network = new FakeNetwork();
});
afterEach(() => server.close());

describe('NetworkWatch', () => {
  it('finds no browser signals in Node', () => {
    assert.equal(browserNetwork(), undefined);
  });

  it('reports offline, online and wake, ignores a change to hidden, and removes its listeners on stop()', () => {
    const seen: string[] = [];
    const watch = new NetworkWatch(network, {
      offline: () => seen.push('offline'),
      online: () => seen.push('online'),
      wake: () => seen.push('wake'),
    });
    assert.equal(network.target.listenerCount, 5);
    network.goOffline();
    assert.equal(watch.offline, true);
    network.goOnline();
    assert.equal(watch.offline, false);
    network.visible = false;
    network.fire('visibilitychange');
    network.visible = true;
    network.fire('visibilitychange');
    network.fire('pageshow');
    network.fire('focus');
    assert.deepEqual(seen, ['offline', 'online', 'wake', 'wake', 'wake']);
    watch.stop();
    assert.equal(network.target.listenerCount, 0);
    network.goOffline();
    assert.equal(seen.length, 5);
  });
});

describe('connection and the network', () => {
  it('offline closes the socket and waits without counting attempts; online reconnects at once and flushes what was emitted meanwhile', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    // maxDelay is also the period of the offline probe: long, so only `online` can bring the next attempt.
    const { client, conn: first } = await server.openConnected({ network, reconnect: { delay: 10, maxDelay: 60_000 } });
    const log = record(client);
    const inFlight = client.emitWithAck('slow', 0);
    await first.nextFrame('event');

    network.goOffline();
    assert.equal(client.state, 'connecting');
    assert.deepEqual(log, ['state connected->connecting network_offline'], 'no backoff attempt is scheduled');
    assert.equal((await first.closed).code, 4005, 'reconnecting: the server keeps the session for a resume');
    await assert.rejects(inFlight, { code: 'disconnected' });
    client.emit('m', 1);
    const ack = client.emitWithAck('m', 2, { timeout: Infinity });
    t.mock.timers.tick(59_000); // reconnect.delay is 10: a backoff retry would have come many times over
    assert.equal(server.connections.length, 1, 'no attempt while offline');
    assert.deepEqual(log, ['state connected->connecting network_offline'], 'no attempt counted');

    const back = nextEvent(client, 'connect');
    network.goOnline();
    t.mock.timers.tick(ONLINE_SPREAD_MS); // at once: within the spread, far short of the 60 s probe
    const second = await server.nextConnection();
    await back;
    const request = await second.nextFrame((f) => f.data === 2);
    second.send({ type: 'reply', ref: request.ref, data: 'ok' });
    assert.equal(await ack, 'ok');
    assert.deepEqual(
      second.frames.map((f) => (f.type === 'event' ? `${f.event}:${f.data}` : f.type)),
      ['hello', 'm:1', 'm:2'],
    );
    assert.deepEqual(log, ['state connected->connecting network_offline', 'state connecting->connected handshake_ok']);
  });

  it('failures while offline do not exhaust maxAttempts; a slow probe keeps trying in case navigator.onLine is wrong', async () => {
    network.online = false;
    server.script.hello = (conn) => conn.terminate();
    const client = server.open({ network, reconnect: { delay: 10, maxDelay: 30, maxAttempts: 2 } });
    const log = record(client);
    await server.nextConnection();
    await server.nextConnection(); // the probe, every maxDelay
    await server.nextConnection();
    assert.equal(client.state, 'connecting');
    assert.ok(!log.some((l) => l.includes('reconnect_exhausted') || l.startsWith('reconnecting')), log.join('\n'));

    server.script.hello = (conn) => server.welcome(conn);
    const connected = nextEvent(client, 'connect');
    network.goOnline();
    await connected;
  });

  it('online resets the attempt counter', async () => {
    const { client, conn: first } = await server.openConnected({ network, reconnect: { delay: 10, maxDelay: 20 } });
    const attempts: number[] = [];
    client.on('reconnecting', (r: ReconnectInfo) => attempts.push(r.attempt));
    server.script.hello = (conn) => conn.terminate();
    first.terminate();
    while (attempts.length < 3) await nextEvent(client, 'reconnecting');
    network.goOffline();
    attempts.length = 0;
    network.goOnline();
    await nextEvent(client, 'reconnecting');
    assert.equal(attempts[0], 1);
  });

  it('a wake while waiting out a long backoff tries at once; a change to hidden does not', async (t) => {
    // The backoff timer on a mocked clock never fires by itself; attempts are counted as the
    // client opens them, so "not one per event" needs no wait for latecomers.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let opened = 0;
    class CountingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        opened++;
      }
    }
    const { client, conn: first } = await server.openConnected({ network, reconnect: { delay: 60_000, maxDelay: 60_000 }, WebSocket: CountingWebSocket as never });
    server.script.hello = () => {}; // hold the welcome: the attempt stays in flight
    const scheduled = nextEvent(client, 'reconnecting');
    first.terminate();
    const [info] = (await scheduled) as [ReconnectInfo];

    network.visible = false;
    network.fire('visibilitychange');
    // Short of the backoff wait: whatever attempt starts now (at once, or after the online spread) is the hidden event's.
    t.mock.timers.tick(Math.min(ONLINE_SPREAD_MS, info.delay - 1));
    await new Promise((resolve) => setImmediate(resolve)); // an attempt opens its socket after the auth function's promise
    assert.equal(opened, 1, 'hidden is not a wake');

    network.visible = true;
    // A wake comes as a burst of events; one attempt only.
    network.fire('visibilitychange');
    network.fire('pageshow');
    network.fire('focus');
    await server.nextConnection(); // every attempt of the burst was opened before this one arrived
    assert.equal(opened, 2, 'the first connection and one attempt: not one per event, none when hidden');
    assert.equal(server.connections.length, 2);
  });

  it('a wake while connected reconnects at once when the server went silent past interval + timeout during the sleep', async (t) => {
    // The client's clock and timers mocked: a loaded machine cannot make the first focus overdue.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    server.script.welcome = { heartbeat: { interval: 50, timeout: 50 } };
    const { client, conn: first } = await server.openConnected({ network, reconnect: { delay: 60_000, maxDelay: 60_000 } });
    const log = record(client);

    network.fire('focus'); // not overdue: nothing happens
    assert.deepEqual(log, []);

    t.mock.timers.setTime(Date.now() + 150); // the clock moved, the watchdog's timer could not run: the page slept
    network.fire('focus');
    assert.deepEqual(log, ['state connected->connecting heartbeat_timeout', 'reconnecting #1 heartbeat_timeout']);
    const second = await server.nextConnection(500);
    assert.equal((await first.closed).code, 4002);
    await second.nextFrame('hello');
  });

  it('the watchdog waits for its reconnect delay as before when it fires by itself', async () => {
    server.script.welcome = { heartbeat: { interval: 20, timeout: 20 } };
    const { client } = await server.openConnected({ network, reconnect: { delay: 60_000, maxDelay: 60_000 } });
    const [info] = (await nextEvent(client, 'reconnecting')) as [ReconnectInfo];
    assert.equal(info.reason, 'heartbeat_timeout');
    assert.ok(info.delay > 0, 'a backoff wait, not an immediate attempt');
    assert.equal(client.state, 'connecting');
  });

  it('online cuts a long backoff wait short, and the next failure counts from attempt 1 (any EventTarget: how a Node app signals it)', async () => {
    const { client, conn: first } = await server.openConnected({ network, reconnect: { delay: 60_000, maxDelay: 60_000 } });
    const attempts: number[] = [];
    client.on('reconnecting', (r: ReconnectInfo) => attempts.push(r.attempt));
    server.script.hello = (conn) => conn.terminate();
    const scheduled = nextEvent(client, 'reconnecting');
    first.terminate();
    await scheduled;
    // The network never reported itself offline (a dead Wi-Fi uplink): only `online` says it is back.
    network.fire('online');
    network.fire('online');
    const failed = nextEvent(client, 'reconnecting');
    await server.nextConnection(2000); // within ONLINE_SPREAD_MS, not the 60 s window
    await failed;
    assert.deepEqual(attempts, [1, 1], 'the backoff started over');
  });

  it('close() removes the listeners, and a closed client ignores the network', async () => {
    const { client } = await server.openConnected({ network });
    assert.equal(network.target.listenerCount, 5);
    client.close();
    assert.equal(network.target.listenerCount, 0);
    network.goOffline();
    network.goOnline();
    assert.equal(client.state, 'disconnected');
  });

  it('does not watch when reconnecting is off, or with network: false', async () => {
    const { client } = await server.openConnected({ network, reconnect: false });
    assert.equal(network.target.listenerCount, 0);
    network.goOffline();
    assert.equal(client.state, 'connected');
    assert.equal(resolveOptions('ws://x/ws', { network: false, WebSocket: WebSocket as never }).network, undefined);
    assert.equal(resolveOptions('ws://x/ws', { network, WebSocket: WebSocket as never }).network, network);
  });
});
