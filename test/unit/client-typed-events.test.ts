/**
 * The client's typed events. The assertions that matter are the compiler's: `npm test`
 * type-checks this file, and every @ts-expect-error fails the build if its line stops
 * being an error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type SwitchboardClient } from '../../src/client/index.js';

interface ServerEvents {
  said(msg: { from: string; text: string }): void;
  confirm(question: string): boolean;
  tick(): void;
}
interface ClientEvents {
  say(msg: { text: string }): { at: number };
  typing(): void;
  maybe(n?: number): number;
}

function typedClient(client: SwitchboardClient<ServerEvents, ClientEvents>): void {
  client.on('said', (msg, meta) => {
    const text: string = msg.text;
    const room: string | undefined = meta.room;
    void text;
    void room;
  });
  client.on('confirm', async (question) => question.length > 0);
  client.on('tick', () => {});
  client.on('state', ({ state, reason }) => void `${state} ${reason}`);
  client.on('disconnect', (reason, { closeCode }) => void `${reason} ${closeCode}`);
  client.emit('say', { text: 'hi' });
  client.emit('typing');
  client.emit('maybe');
  client.volatile.emit('typing');
  const at: Promise<{ at: number }> = client.emitWithAck('say', { text: 'hi' }, { timeout: 1000 });
  void at;
  const once: Promise<{ at: number }> = client.reliable.emit('say', { text: 'hi' });
  const bounded: Promise<{ at: number }> = client.reliable.emit('say', { text: 'hi' }, { timeout: 1000 });
  const maybe: Promise<number> = client.reliable.emit('maybe');
  void [once, bounded, maybe];
  client.on('connect', ({ resumed }) => void (resumed satisfies boolean));
  client.on('state', ({ resumed }) => void (resumed satisfies boolean | undefined));
  // Listeners written before `connect` had a payload still fit (e.g. a Promise<void>'s resolve).
  void new Promise<void>((resolve) => client.once('connect', resolve));
  // @ts-expect-error reliable publishes are typed like emitWithAck
  client.reliable.emit('say', { text: 1 });
  // @ts-expect-error the reply type comes from the event map
  const wrong: Promise<string> = client.reliable.emit('say', { text: 'hi' });
  void wrong;
  // @ts-expect-error the reply to a server request must match the event map
  client.on('confirm', () => 'yes');
  // @ts-expect-error a request handler must produce the reply
  client.on('confirm', () => {});
  // @ts-expect-error unknown server event
  client.on('shout', () => {});
  // @ts-expect-error wrong payload
  client.emit('say', { text: 1 });
  // @ts-expect-error payload required
  client.emit('say');
  // @ts-expect-error unknown client event
  client.emit('nope', 1);
  // @ts-expect-error lifecycle names cannot be emitted
  client.emit('connect');
  const admin = client.of<{ notice(text: string): void }, { kick(user: string): void }>('/admin');
  admin.emit('kick', 'bob');
  // @ts-expect-error each namespace has its own map
  admin.emit('say', { text: 'hi' });
}

test('the browser entry without a WebSocket: WebSocket only is refused at once; by default HTTP carries the session', () => {
  void typedClient;
  // Node 20 has no global WebSocket: the browser entry must say so instead of failing later.
  if ((globalThis as { WebSocket?: unknown }).WebSocket !== undefined) return;
  assert.throws(() => connect('ws://127.0.0.1:1/ws', { transports: ['websocket'] }), /no WebSocket implementation/);
  const fallback = connect('ws://127.0.0.1:1/ws', { reconnect: false });
  fallback.close();
});
