/**
 * The client's catch-all listener (`onAny` / `offAny`) against a scripted server: every app
 * event once, after the durable dedupe, with the per-event listeners' meta and before them;
 * server requests too; never the lifecycle events; per namespace.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EventMeta, StreamPosition, SwitchboardClient } from '../../src/client/node.js';
import { type Frame, nextEvent, type ScriptedConnection, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());

const at = (offset: number, epoch = 'e1'): StreamPosition => ({ epoch, offset });

/** What onAny hears, as [event, data, meta] triples. */
function catchAll(client: SwitchboardClient): Array<[string, unknown, EventMeta]> {
  const heard: Array<[string, unknown, EventMeta]> = [];
  client.onAny((event, data, meta) => void heard.push([event, data, meta]));
  return heard;
}

/** Wait until the client has handled every frame sent before this call (frames are handled in order). */
async function sync(client: SwitchboardClient, conn: ScriptedConnection, ns?: string): Promise<void> {
  const handled = nextEvent(client, 'sync');
  conn.send({ type: 'event', event: 'sync', ...(ns && { ns }) });
  await handled;
}

/** Every join is answered as a durable room at `position` (recovered when `since` was sent). */
function durableRooms(position: () => StreamPosition): void {
  server.script.room = (conn, f: Frame) => {
    conn.send({ type: 'reply', ref: f.ref, data: { room: f.room, durable: true, position: position(), ...(f.since ? { recovered: true } : {}) } });
  };
}

describe('onAny', () => {
  it('hears every app event with its name, data and meta, before the per-event listeners', async () => {
    const { client, conn } = await server.openConnected();
    const order: string[] = [];
    const heard = catchAll(client);
    client.onAny((event) => void order.push(`any ${event}`));
    client.on('chat', (data: string) => void order.push(`chat ${data}`));

    conn.send({ type: 'event', event: 'chat', data: 'hi', room: 'lobby' });
    conn.send({ type: 'event', event: 'never-heard-of', data: { n: 1 } });
    conn.send({ type: 'event', event: 'bare' });
    await sync(client, conn);

    assert.deepEqual(heard, [
      ['chat', 'hi', { room: 'lobby' }],
      ['never-heard-of', { n: 1 }, {}],
      ['bare', undefined, {}],
      ['sync', undefined, {}],
    ]);
    assert.deepEqual(order.slice(0, 3), ['any chat', 'chat hi', 'any never-heard-of'], 'onAny runs first, then the per-event listener');
  });

  it('hears each publication of a durable room once, with its position, after duplicates are dropped', async () => {
    durableRooms(() => at(5));
    const { client, conn } = await server.openConnected();
    const heard = catchAll(client);
    const metas: EventMeta[] = [];
    client.on('story', (_data: unknown, meta: EventMeta) => void metas.push(meta));
    await client.join('news');

    for (const offset of [5, 6, 6, 4, 7]) conn.send({ type: 'event', event: 'story', room: 'news', position: at(offset), data: offset });
    await sync(client, conn);

    const stories = heard.filter(([event]) => event === 'story');
    assert.deepEqual(stories, [
      ['story', 6, { room: 'news', position: at(6) }],
      ['story', 7, { room: 'news', position: at(7) }],
    ]);
    assert.deepEqual(
      stories.map(([, , meta]) => meta),
      metas,
      'the same meta the per-event listener gets',
    );
  });

  it('hears server requests; the per-event handler answers, and without one the server gets no_handler', async () => {
    const { client, conn } = await server.openConnected();
    const heard = catchAll(client);
    client.on('add', (d: { a: number; b: number }) => d.a + d.b);

    conn.send({ type: 'event', event: 'add', data: { a: 1, b: 2 }, ref: 1 });
    assert.deepEqual(await conn.nextFrame((f) => f.type === 'reply' && f.ref === 1), { type: 'reply', ref: 1, data: 3 });
    conn.send({ type: 'event', event: 'missing', data: 'x', ref: 2 });
    const missing = await conn.nextFrame((f) => f.type === 'reply' && f.ref === 2);
    assert.equal((missing.error as { code: string }).code, 'no_handler', 'what onAny returns answers nothing');

    assert.deepEqual(heard, [
      ['add', { a: 1, b: 2 }, {}],
      ['missing', 'x', {}],
    ]);
  });

  it('a handler an onAny listener adds for a new name answers that very request', async () => {
    const { client, conn } = await server.openConnected();
    const answered = new Set<string>();
    client.onAny((event) => {
      if (answered.has(event)) return;
      answered.add(event);
      client.on(event, () => `handled ${event}`);
    });
    conn.send({ type: 'event', event: 'surprise', ref: 4 });
    assert.deepEqual(await conn.nextFrame('reply'), { type: 'reply', ref: 4, data: 'handled surprise' });
  });

  it('never hears the lifecycle events, nor an event frame carrying a reserved name', async () => {
    durableRooms(() => at(5));
    server.resumable();
    const { client, conn } = await server.openConnected();
    const heard = catchAll(client);
    const lifecycle: string[] = [];
    for (const name of ['connect', 'disconnect', 'state', 'reconnecting', 'recovery', 'presence', 'error'] as const) {
      client.on(name, () => void lifecycle.push(name));
    }
    await client.join('news');

    conn.send({ type: 'presence', room: 'news', kind: 'join', user: 'ada' });
    conn.send({ type: 'error', code: 'bad_request', message: 'a problem that leaves the connection up' });
    conn.send({ type: 'event', event: 'connect', data: 'forged' });
    await sync(client, conn);

    // A new session: the durable room is rejoined with since, and recovery follows.
    server.forgetSessions();
    const recovered = nextEvent(client, 'recovery');
    conn.terminate();
    const second = await server.nextConnection();
    await recovered;
    await sync(client, second);

    for (const name of ['presence', 'error', 'disconnect', 'state', 'reconnecting', 'connect', 'recovery']) {
      assert.ok(lifecycle.includes(name), `the ${name} event did happen`);
    }
    assert.deepEqual(
      heard.map(([event]) => event),
      ['sync', 'sync'],
      'only the app events',
    );
  });

  it('on a namespace channel hears that namespace only', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const rootHeard = catchAll(client);
    const adminHeard = catchAll(admin);

    conn.send({ type: 'event', ns: '/admin', event: 'notice', data: 'for admins', room: 'ops' });
    conn.send({ type: 'event', event: 'notice', data: 'for everyone' });
    await sync(admin, conn, '/admin');
    await sync(client, conn);

    assert.deepEqual(adminHeard, [
      ['notice', 'for admins', { room: 'ops' }],
      ['sync', undefined, {}],
    ]);
    assert.deepEqual(rootHeard, [
      ['notice', 'for everyone', {}],
      ['sync', undefined, {}],
    ]);
  });

  it('offAny(listener) removes that listener; offAny() removes them all', async () => {
    const { client, conn } = await server.openConnected();
    const log: string[] = [];
    const first = (event: string): void => void log.push(`first ${event}`);
    const second = (event: string): void => void log.push(`second ${event}`);
    assert.equal(client.onAny(first).onAny(second), client, 'chainable');

    conn.send({ type: 'event', event: 'a' });
    await sync(client, conn);
    client.offAny(first);
    conn.send({ type: 'event', event: 'b' });
    await sync(client, conn);
    client.onAny(first);
    assert.equal(client.offAny(), client);
    conn.send({ type: 'event', event: 'c' });
    await sync(client, conn);

    assert.deepEqual(log, ['first a', 'second a', 'first sync', 'second sync', 'second b', 'second sync']);
  });

  it('a listener removed by an earlier one during a dispatch still hears that event, not the next', async () => {
    const { client, conn } = await server.openConnected();
    const log: string[] = [];
    const later = (event: string): void => void log.push(`later ${event}`);
    client.onAny((event) => {
      log.push(`first ${event}`);
      client.offAny(later);
    });
    client.onAny(later);
    conn.send({ type: 'event', event: 'a' });
    await sync(client, conn);
    assert.deepEqual(log, ['first a', 'later a', 'first sync']);
  });
});

interface ServerEvents {
  said(msg: { from: string; text: string }): void;
  confirm(question: string): boolean;
}

// Compile-time checks: `npx tsc` fails if a @ts-expect-error line stops being an error.
export function typedCatchAll(client: SwitchboardClient<ServerEvents>): void {
  client.onAny((event, data, meta) => {
    const name: 'said' | 'confirm' = event;
    const payload: unknown = data;
    const room: string | undefined = meta.room;
    void [name, payload, room];
  });
  client.onAny((event) => void event);
  // A listener written for any client fits a typed one.
  const generic = (event: string, data: unknown, meta: EventMeta): void => void [event, data, meta];
  client.onAny(generic).offAny(generic);
  // @ts-expect-error the event names are the map's
  client.onAny((event: 'said' | 'shout') => void event);
  // @ts-expect-error a lifecycle name never reaches onAny
  client.onAny((event) => void (event === 'connect'));
}
