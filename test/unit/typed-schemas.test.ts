import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { Switchboard } from '../../src/server/index.js';

interface ClientEvents {
  say(msg: { room: string; text: string }): { at: number };
  typing(room: string): void;
}

/** Compile-time equality: `Expect<Equal<A, B>>` fails to compile unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<_T extends true>(): void {}

// The assertions here are the compiler's: `npm test` type-checks this file, and each
// expect-error directive below fails the build if the line it marks stops being an error.
function untypedServer(sb: Switchboard): void {
  const chat = sb.of('/chat').schemas({
    sendMessage: z.object({ room: z.string(), text: z.string().max(1000), at: z.coerce.date() }),
    react: v.object({ id: v.string(), emoji: v.picklist(['+1', '-1']) }),
    typing: type({ room: 'string', 'until?': 'number' }),
  });
  chat.on('connection', (socket) => {
    socket.on('sendMessage', (msg) => {
      expectTrue<Equal<typeof msg, { room: string; text: string; at: Date }>>();
      // @ts-expect-error the schema's output has no `from`
      void msg.from;
      return { ok: true };
    });
    socket.on('react', (r) => {
      expectTrue<Equal<typeof r, { id: string; emoji: '+1' | '-1' }>>();
    });
    socket.on('typing', (t) => {
      const room: string = t.room;
      const until: number | undefined = t.until;
      void room, until;
      // @ts-expect-error until is optional
      const sure: number = t.until;
      void sure;
    });
    // Events without a schema stay untyped.
    socket.on('other', (anything) => {
      expectTrue<Equal<typeof anything, any>>();
    });
  });
  // The root namespace, through the server.
  sb.schemas({ ping: z.number().int() }).on('connection', (socket) => {
    socket.on('ping', (n) => {
      expectTrue<Equal<typeof n, number>>();
      return n + 1;
    });
  });
  // Calls chain: each adds its events' types.
  sb.of('/twice')
    .schemas({ a: z.string() })
    .schemas({ b: v.number() })
    .on('connection', (socket) => {
      socket.on('a', (a) => expectTrue<Equal<typeof a, string>>());
      socket.on('b', (b) => expectTrue<Equal<typeof b, number>>());
    });
  // A later schema for the same event replaces the earlier one, in the types as at run time.
  sb.of('/again')
    .schemas({ a: z.string() })
    .schemas({ a: type('number') })
    .on('connection', (socket) => {
      socket.on('a', (a) => expectTrue<Equal<typeof a, number>>());
    });
  // @ts-expect-error not a Standard Schema
  sb.of('/x').schemas({ bad: { parse: (x: unknown) => x } });
}

function typedServer(sb: Switchboard<ClientEvents>): void {
  const validated = sb.schemas({ say: z.object({ room: z.string().min(1), text: z.string().trim() }) });
  validated.on('connection', (socket) => {
    socket.on('say', (msg) => {
      expectTrue<Equal<typeof msg, { room: string; text: string }>>();
      return { at: Date.now() };
    });
    // @ts-expect-error the reply type of the map still applies
    socket.on('say', () => ({ at: 'now' }));
    socket.on('typing', (room) => {
      expectTrue<Equal<typeof room, string>>();
    });
  });
  // @ts-expect-error only events of the map can have schemas
  sb.schemas({ shout: z.string() });
  // @ts-expect-error the schema must accept the data the map declares
  sb.schemas({ say: z.object({ room: z.number(), text: z.string() }) });
  // @ts-expect-error ... also for valibot
  sb.schemas({ typing: v.number() });
}

test('schemas type the handlers of validated events (checked by tsc)', () => {
  assert.equal(typeof untypedServer, 'function');
  assert.equal(typeof typedServer, 'function');
});
