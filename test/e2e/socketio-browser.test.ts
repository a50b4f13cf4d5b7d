/**
 * A Socket.IO app's page, unchanged, in headless Chromium: it loads socket.io-client from
 * the server itself (`<script src="/socket.io/socket.io.js">`) and talks to a Switchboard
 * with the Socket.IO front door on — auth, acks, rooms shared with a native Switchboard
 * client, binary (ArrayBuffer) both ways, and connection state recovery after the page's
 * network went away while the server kept broadcasting.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { type Socket, Switchboard } from '../../src/server/index.js';
import { useBrowser } from '../helpers/browser.js';
import { eventually } from '../helpers/server.js';

const browser = useBrowser();
const WAIT_MS = 15_000;

/** The whole page of a Socket.IO app: the client from the server, nothing else. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Socket.IO app</title>
<script src="/socket.io/socket.io.js"></script>
</head><body>Socket.IO app</body></html>`;

/** What the page records of every event (binary made plain for the test to read). */
interface Seen {
  event: string;
  args: unknown[];
}

/** Test scaffolding in the page: every event received, with ArrayBuffers as `{ arrayBuffer: [bytes] }`. */
const RECORDER = `
  window.seen = [];
  const plain = (value) => {
    if (value instanceof ArrayBuffer) return { arrayBuffer: [...new Uint8Array(value)] };
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    return value;
  };
  window.record = (event, ...args) => window.seen.push({ event, args: args.map(plain) });
`;

declare global {
  interface Window {
    io: typeof import('socket.io-client').io;
    socket: import('socket.io-client').Socket;
    seen: Seen[];
    record(event: string, ...args: unknown[]): void;
  }
}

describe('socket.io-client in the browser, loaded from /socket.io/socket.io.js', () => {
  let http: HttpServer;
  let sb: Switchboard;
  let url: string;
  const sockets = new Map<string, Socket>();
  const natives: SwitchboardClient[] = [];

  before(async () => {
    http = createServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(PAGE);
      } else {
        res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
      }
    });
    sb = new Switchboard(http, { socketIo: { recovery: true } });
    http.listen(0, '127.0.0.1');
    await sb.ready();
    url = `http://127.0.0.1:${sb.port}/`;
    sb.on('connection', (socket) => {
      sockets.set(socket.id, socket);
      socket.on('enter', (room) => {
        socket.join(String(room));
        return { room, as: (socket.handshake.auth as { name?: unknown } | undefined)?.name };
      });
      socket.on('say', (data) => {
        const { room, ...rest } = data as { room: string };
        socket.to(room).emit('said', rest);
      });
      socket.on('bytes', (data) => {
        const bytes = data as Uint8Array;
        return { isUint8Array: bytes instanceof Uint8Array, reversed: Uint8Array.from(bytes).reverse() };
      });
    });
  });
  after(async () => {
    for (const n of natives) n.close();
    await sb.close();
    // Switchboard leaves a server of the app's to the app.
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  function native(name: string): SwitchboardClient {
    const client = connect(`ws://127.0.0.1:${sb.port}/ws`, { auth: { name } });
    natives.push(client);
    return client;
  }

  /** Open the page and connect its socket (as the app would, plus a record of what it receives). */
  async function openApp(name: string) {
    const opened = await browser.newPage();
    await opened.page.goto(url);
    // A string, not a function: the test's compiler would add helpers the page does not have.
    await opened.page.evaluate(RECORDER);
    await opened.page.evaluate((auth) => {
      window.socket = window.io({ auth, reconnectionDelay: 100, reconnectionDelayMax: 500 });
      window.socket.onAny(window.record);
      return new Promise<void>((resolve, reject) => {
        window.socket.once('connect', () => resolve());
        window.socket.once('connect_error', (err) => reject(err));
      });
    }, { name });
    return opened;
  }

  function seen(page: Page, event: string): Promise<unknown[][]> {
    return page.evaluate((e) => window.seen.filter((s) => s.event === e).map((s) => s.args), event);
  }

  async function waitSeen(page: Page, event: string, count: number): Promise<unknown[][]> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const list = await seen(page, event);
      if (list.length >= count) return list;
      if (Date.now() > deadline) assert.fail(`the page saw ${list.length} of ${count} "${event}" events`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('auth, emit with ack, and a room shared with a native Switchboard client, both ways', async () => {
    const { page, problems } = await openApp('Page');
    const id = await page.evaluate(() => window.socket.id);
    assert.ok(id && sockets.has(id));
    assert.deepEqual(sockets.get(id)?.handshake.auth, { name: 'Page' });
    assert.deepEqual(await page.evaluate(() => window.socket.emitWithAck('enter', 'room:1')), { room: 'room:1', as: 'Page' });

    const ann = native('Ann');
    const heard: unknown[] = [];
    ann.on('said', (data) => heard.push(data));
    await ann.emitWithAck('enter', 'room:1');

    ann.emit('say', { room: 'room:1', text: 'from native' });
    const [[fromNative]] = (await waitSeen(page, 'said', 1)) as [[unknown, string]];
    assert.deepEqual(fromNative, { text: 'from native' });

    await page.evaluate(() => window.socket.emit('say', { room: 'room:1', text: 'from the page' }));
    await eventually(() => heard.length === 1, 'the page\'s broadcast at the native client');
    assert.deepEqual(heard, [{ text: 'from the page' }]);
    // The page's socket upgraded to WebSocket, as socket.io-client does by default.
    await eventually(() => sockets.get(id)?.transport === 'socket.io/websocket', 'the upgrade');
    assert.deepEqual(problems, []);
  });

  test('binary: ArrayBuffers from the page arrive as Uint8Array; binary from the server and a native client arrives as ArrayBuffer', async () => {
    const { page, problems } = await openApp('Bytes');
    await page.evaluate(() => window.socket.emitWithAck('enter', 'room:bin'));
    const answer = await page.evaluate(async () => {
      const reply = (await window.socket.emitWithAck('bytes', new Uint8Array([1, 2, 3, 255]).buffer)) as { isUint8Array: boolean; reversed: unknown };
      return { isUint8Array: reply.isUint8Array, isArrayBuffer: reply.reversed instanceof ArrayBuffer, reversed: [...new Uint8Array(reply.reversed as ArrayBuffer)] };
    });
    assert.deepEqual(answer, { isUint8Array: true, isArrayBuffer: true, reversed: [255, 3, 2, 1] });

    const ann = native('Ann');
    const heard: unknown[] = [];
    ann.on('said', (data) => heard.push(data));
    await ann.emitWithAck('enter', 'room:bin');
    ann.emit('say', { room: 'room:bin', blob: new Uint8Array([9, 8, 7]) });
    sb.to('room:bin').emit('said', { blob: Buffer.from([4, 5]) });
    const said = await waitSeen(page, 'said', 2);
    // Sorted: the two senders race.
    const blobs = said.map((args) => ((args[0] as { blob: { arrayBuffer: number[] } }).blob.arrayBuffer)).sort((a, b) => a.length - b.length);
    assert.deepEqual(blobs, [[4, 5], [9, 8, 7]], 'both arrived as ArrayBuffers');

    // Ann heard the server's broadcast to the room; now the page's.
    await page.evaluate(() => window.socket.emit('say', { room: 'room:bin', blob: new Uint8Array([6, 6, 6, 6]).buffer }));
    await eventually(() => heard.length === 2, 'the page\'s binary at the native client');
    const fromPage = heard[1] as { blob: Uint8Array };
    assert.ok(fromPage.blob instanceof Uint8Array);
    assert.deepEqual([...fromPage.blob], [6, 6, 6, 6]);
    assert.deepEqual(problems, []);
  });

  test('recovery: the page goes offline while the server broadcasts; back online, nothing lost, nothing repeated, socket.recovered', async () => {
    const { page, context, problems } = await openApp('Offline');
    await page.evaluate(() => window.socket.emitWithAck('enter', 'feed'));
    const id = (await page.evaluate(() => window.socket.id)) as string;
    const socket = sockets.get(id) as Socket;
    await eventually(() => socket.transport === 'socket.io/websocket', 'the upgrade');
    const send = (from: number, to: number) => {
      for (let i = from; i <= to; i++) {
        sb.to('feed').emit('tick', i);
        socket.emit('direct', i);
      }
    };
    send(1, 20);
    await waitSeen(page, 'tick', 20);

    await context.setOffline(true);
    send(21, 30);
    await page.waitForFunction(() => !window.socket.connected, undefined, { timeout: WAIT_MS });
    send(31, 40);
    await context.setOffline(false);
    await page.waitForFunction(() => window.socket.connected, undefined, { timeout: WAIT_MS });
    send(41, 60);

    const ticks = await waitSeen(page, 'tick', 60);
    const directs = await waitSeen(page, 'direct', 60);
    const numbers = Array.from({ length: 60 }, (_, i) => i + 1);
    assert.deepEqual(ticks.map((args) => args[0]), numbers, 'every broadcast once, in order');
    assert.deepEqual(directs.map((args) => args[0]), numbers, 'every event to the socket alone once, in order');
    assert.deepEqual(await page.evaluate(() => ({ recovered: window.socket.recovered, id: window.socket.id })), { recovered: true, id });
    assert.ok(socket.rooms.has('feed'));
    // Chromium logs the requests that failed while offline: that is the test, not a bug.
    assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(p)), []);
  });
});
