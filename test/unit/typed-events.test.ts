import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Switchboard } from '../../src/server/index.js';

interface ClientEvents {
  say(msg: { text: string }): { at: number };
  typing(room: string): void;
}
interface ServerEvents {
  said(msg: { from: string; text: string }): void;
  confirm(question: string): boolean;
}
interface SocketData {
  name: string;
}

// The assertions here are the compiler's: `npm test` type-checks this file, and each
// expect-error directive below fails the build if the line it marks stops being an error.
function typedServer(sb: Switchboard<ClientEvents, ServerEvents, SocketData>): void {
  sb.on('connection', (socket) => {
    socket.data.name = 'ada';
    socket.on('say', (msg) => {
      const text: string = msg.text;
      socket.to('r').emit('said', { from: socket.data.name, text });
      return { at: Date.now() };
    });
    // @ts-expect-error the reply must match the event map
    socket.on('say', () => ({ at: 'now' }));
    // @ts-expect-error unknown client event
    socket.on('shout', () => undefined);
    // @ts-expect-error wrong payload
    socket.emit('said', { from: 1, text: 'x' });
    // @ts-expect-error unknown server event
    sb.emit('nope', 1);
    socket.on('disconnect', (reason) => {
      const r: string = reason;
      void r;
    });
    void socket.emitWithAck('confirm', 'sure?').then((yes) => {
      const b: boolean = yes;
      void b;
    });
  });
}

test('typed event maps compile (checked by tsc) and an untyped server accepts any event', () => {
  assert.equal(typeof typedServer, 'function');
  const untyped: Switchboard | undefined = undefined;
  assert.equal(untyped, undefined);
});
