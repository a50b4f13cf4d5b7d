import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { connect } from '../../src/client/node.js';
import type { SwitchboardError } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

/** The same message shape in each library: text is at most 10 characters and comes out upper-cased. */
const schemas = {
  zod: z.object({
    text: z
      .string()
      .max(10)
      .transform((s) => s.toUpperCase()),
    items: z.array(z.object({ name: z.string() })),
  }),
  valibot: v.object({
    text: v.pipe(
      v.string(),
      v.maxLength(10),
      v.transform((s) => s.toUpperCase()),
    ),
    items: v.array(v.object({ name: v.string() })),
  }),
  arktype: type({
    text: type('string <= 10').pipe((s) => s.toUpperCase()),
    items: type({ name: 'string' }).array(),
  }),
};

type Frame = Record<string, unknown>;
const errorOf = (frame: Frame): { code: string; message: string; details?: { issues: { path: unknown[]; message: string }[] } } =>
  frame.error as never;

async function bareClient(url: string, ns?: string): Promise<BareClient> {
  const client = await BareClient.open(url);
  await client.hello(ns === undefined ? {} : { ns });
  return client;
}

describe('schema validation of client events', () => {
  for (const [library, schema] of Object.entries(schemas)) {
    test(`${library}: valid data reaches the handler transformed; invalid data is refused naming the path`, async () => {
      const { sb, url } = await startServer();
      const received: unknown[] = [];
      sb.of('/chat')
        .schemas({ sendMessage: schema })
        .on('connection', (socket) => {
          socket.on('sendMessage', (msg) => {
            received.push(msg);
            return { echoed: msg };
          });
        });
      const client = await bareClient(url, '/chat');
      try {
        client.send({ type: 'event', ns: '/chat', event: 'sendMessage', ref: 1, data: { text: 'hi', items: [{ name: 'a' }] } });
        assert.deepEqual((await client.next({ type: 'reply', ref: 1 })).data, { echoed: { text: 'HI', items: [{ name: 'a' }] } });

        client.send({ type: 'event', ns: '/chat', event: 'sendMessage', ref: 2, data: { text: 'far too long a text', items: [] } });
        const tooLong = errorOf(await client.next({ type: 'reply', ref: 2 }));
        assert.equal(tooLong.code, 'bad_request');
        // `text:? `: arktype's messages start with the path already, and it is not repeated.
        assert.match(tooLong.message, /^invalid "sendMessage" data: text:? \S/);
        assert.deepEqual(
          tooLong.details?.issues.map((i) => i.path),
          [['text']],
        );

        client.send({ type: 'event', ns: '/chat', event: 'sendMessage', ref: 3, data: { text: 'ok', items: [{ name: 'a' }, { name: 7 }] } });
        const nested = errorOf(await client.next({ type: 'reply', ref: 3 }));
        assert.equal(nested.code, 'bad_request');
        assert.match(nested.message, /^invalid "sendMessage" data: items\[1\]\.name:? \S/);
        assert.deepEqual(nested.details?.issues[0]?.path, ['items', 1, 'name']);

        client.send({ type: 'event', ns: '/chat', event: 'sendMessage', ref: 4, data: 'not an object' });
        const root = errorOf(await client.next({ type: 'reply', ref: 4 }));
        assert.equal(root.code, 'bad_request');
        assert.match(root.message, /^invalid "sendMessage" data: \(root\): \S/);

        assert.deepEqual(received, [{ text: 'HI', items: [{ name: 'a' }] }], 'only the valid message reached the handler');
      } finally {
        client.close();
        await sb.close({ deadline: 50 });
      }
    });
  }

  test('the SDK rejects with bad_request and exposes the issues; the root namespace is validated through sb.schemas', async () => {
    const { sb, url } = await startServer();
    sb.schemas({ add: z.object({ a: z.number(), b: z.number().default(1) }) }).on('connection', (socket) => {
      socket.on('add', ({ a, b }) => a + b);
    });
    const client = connect(url);
    try {
      assert.equal(await client.emitWithAck('add', { a: 41 }), 42, 'the default was applied');
      const err = (await client.emitWithAck('add', { a: 'x', b: null }).then(
        () => assert.fail('accepted invalid data'),
        (e: unknown) => e,
      )) as SwitchboardError;
      assert.equal(err.code, 'bad_request');
      assert.match(err.message, /^invalid "add" data: a: .+; b: .+$/);
      assert.deepEqual(
        err.details?.issues?.map((i) => i.path),
        [['a'], ['b']],
      );
      // Fire and forget: the namespace handle's `error` event.
      const reported = new Promise<SwitchboardError>((resolve) => client.once('error', resolve as never));
      client.emit('add', { a: [] });
      const frameError = await reported;
      assert.equal(frameError.code, 'bad_request');
      assert.match(frameError.message, /^invalid "add" data: a: /);
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('a fire-and-forget event with invalid data runs no handler and gets an error frame with its namespace', async () => {
    const { sb, url } = await startServer();
    const seen: unknown[] = [];
    sb.of('/chat')
      .schemas({ typing: z.object({ room: z.string() }) })
      .on('connection', (socket) => {
        socket.on('typing', (t) => {
          seen.push(t);
        });
      });
    const client = await bareClient(url, '/chat');
    try {
      client.send({ type: 'event', ns: '/chat', event: 'typing', data: { room: 5 } });
      const error = await client.next({ type: 'error' });
      assert.equal(error.code, 'bad_request');
      assert.equal(error.ns, '/chat');
      assert.match(String(error.message), /^invalid "typing" data: room: \S/);
      assert.deepEqual((error.details as { issues: { path: unknown[] }[] }).issues[0]?.path, ['room']);
      client.send({ type: 'event', ns: '/chat', event: 'typing', data: { room: 'lobby' } });
      await eventually(() => seen.length === 1, 'the valid event to be handled');
      assert.deepEqual(seen, [{ room: 'lobby' }]);
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('every handler of a validated event is covered, including those of sockets that connect later', async () => {
    const { sb, url } = await startServer();
    const calls: string[] = [];
    const chat = sb.of('/chat').schemas({ say: z.string().min(1) });
    chat.on('connection', (socket) => {
      socket.on('say', (text) => {
        calls.push(`first:${text}`);
        return text.length;
      });
      // A second handler registered later on the same socket is covered as well.
      setImmediate(() => socket.on('say', (text) => void calls.push(`second:${text}`)));
    });
    const early = await bareClient(url, '/chat');
    const late = await bareClient(url, '/chat');
    try {
      await eventually(() => chat.sockets.size === 2, 'two sockets');
      await new Promise((resolve) => setImmediate(resolve));
      for (const client of [early, late]) {
        client.send({ type: 'event', ns: '/chat', event: 'say', ref: 1, data: '' });
        assert.equal(errorOf(await client.next({ type: 'reply', ref: 1 })).code, 'bad_request');
        client.send({ type: 'event', ns: '/chat', event: 'say', ref: 2, data: 42 });
        assert.equal(errorOf(await client.next({ type: 'reply', ref: 2 })).code, 'bad_request');
      }
      assert.deepEqual(calls, [], 'no handler saw invalid data');
      late.send({ type: 'event', ns: '/chat', event: 'say', ref: 3, data: 'hey' });
      assert.equal((await late.next({ type: 'reply', ref: 3 })).data, 3);
      await eventually(() => calls.length === 2, 'both handlers');
      assert.deepEqual(calls.sort(), ['first:hey', 'second:hey']);
    } finally {
      early.close();
      late.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('async schemas validate, and handlers still start in arrival order', async () => {
    const { sb, url } = await startServer();
    const started: string[] = [];
    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    sb.schemas({
      slow: z.string().refine(async (s) => {
        await slowGate;
        return s !== 'bad';
      }, 'must not be bad'),
      quick: z.string().refine(async (s) => s.length > 0, 'must not be empty'),
    }).on('connection', (socket) => {
      socket.on('slow', (s) => void started.push(`slow:${s}`));
      socket.on('quick', (s) => {
        started.push(`quick:${s}`);
        return s.toUpperCase();
      });
      socket.on('plain', (s: string) => void started.push(`plain:${s}`));
    });
    const client = await bareClient(url);
    try {
      client.send({ type: 'event', event: 'slow', data: 'one' });
      client.send({ type: 'event', event: 'quick', ref: 1, data: 'two' });
      client.send({ type: 'event', event: 'plain', data: 'three' });
      client.send({ type: 'event', event: 'slow', ref: 2, data: 'bad' });
      client.send({ type: 'event', event: 'plain', data: 'four' });
      // Nothing may start while the first event's schema has not decided.
      client.send({ type: 'ping' });
      await client.next({ type: 'pong' });
      assert.deepEqual(started, []);
      releaseSlow();
      assert.equal((await client.next({ type: 'reply', ref: 1 })).data, 'TWO');
      const bad = errorOf(await client.next({ type: 'reply', ref: 2 }));
      assert.equal(bad.code, 'bad_request');
      assert.equal(bad.message, 'invalid "slow" data: (root): must not be bad');
      await eventually(() => started.length === 4, 'four handlers');
      assert.deepEqual(started, ['slow:one', 'quick:two', 'plain:three', 'plain:four']);
      // Once nothing waits, events are handled as before.
      client.send({ type: 'event', event: 'quick', ref: 3, data: '' });
      assert.equal(errorOf(await client.next({ type: 'reply', ref: 3 })).message, 'invalid "quick" data: (root): must not be empty');
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('a schema that throws (or breaks the spec) answers internal_error, is reported, and the server keeps serving', async () => {
    const { sb, url } = await startServer();
    const reported: unknown[] = [];
    sb.on('error', (err) => reported.push(err));
    const throwing = { '~standard': { version: 1 as const, vendor: 'test', validate: (): never => { throw new Error('schema bug'); } } };
    const rejecting = { '~standard': { version: 1 as const, vendor: 'test', validate: () => Promise.reject(new Error('async schema bug')) } };
    const broken = { '~standard': { version: 1 as const, vendor: 'test', validate: () => null as never } };
    let ran = 0;
    sb.schemas({ a: throwing, b: rejecting, c: broken, ok: z.number() }).on('connection', (socket) => {
      for (const event of ['a', 'b', 'c'] as const) socket.on(event, () => void ran++);
      socket.on('ok', (n) => n * 2);
    });
    const client = await bareClient(url);
    try {
      for (const [ref, event] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) {
        client.send({ type: 'event', event, ref, data: 1 });
        const error = errorOf(await client.next({ type: 'reply', ref }));
        assert.equal(error.code, 'internal_error');
        assert.equal(error.message, `validating "${event}" data failed; details are in the server log`);
      }
      client.send({ type: 'event', event: 'a', data: 1 });
      assert.equal((await client.next({ type: 'error' })).code, 'internal_error');
      assert.equal(ran, 0);
      assert.deepEqual(
        reported.map((e) => (e as Error).message),
        ['schema bug', 'async schema bug', 'the schema returned null, not a result', 'schema bug'],
      );
      client.send({ type: 'event', event: 'ok', ref: 4, data: 21 });
      assert.equal((await client.next({ type: 'reply', ref: 4 })).data, 42);
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('a reliable publish with invalid data is answered bad_request, and a re-send gets the remembered reply', async () => {
    const { sb, url } = await startServer();
    let ran = 0;
    sb.schemas({ post: z.object({ text: z.string() }) }).on('connection', (socket) => {
      socket.on('post', ({ text }) => {
        ran++;
        return text;
      });
    });
    const client = await bareClient(url);
    try {
      client.send({ type: 'event', event: 'post', ref: 1, seq: 1, data: { text: 9 } });
      const first = errorOf(await client.next({ type: 'reply', ref: 1 }));
      assert.equal(first.code, 'bad_request');
      // The same sequence number again, even with other data: the stored reply, no handler.
      client.send({ type: 'event', event: 'post', ref: 2, seq: 1, data: { text: 'fine' } });
      assert.deepEqual(errorOf(await client.next({ type: 'reply', ref: 2 })), first);
      client.send({ type: 'event', event: 'post', ref: 3, seq: 2, data: { text: 'fine' } });
      assert.equal((await client.next({ type: 'reply', ref: 3 })).data, 'fine');
      assert.equal(ran, 1);
    } finally {
      client.close();
      await sb.close({ deadline: 50 });
    }
  });

  test('schemas() refuses what is not a Standard Schema and reserved event names', async () => {
    const { sb } = await startServer();
    try {
      assert.throws(() => sb.of('/x').schemas({ e: { parse: () => 1 } } as never), { name: 'TypeError', message: /"e" is not a Standard Schema/ });
      assert.throws(() => sb.of('/x').schemas({ disconnect: z.string() } as never), { name: 'TypeError', message: /reserved/ });
      // All or nothing: the valid entry of a refused call was not declared either.
      assert.throws(() => sb.of('/y').schemas({ good: z.string(), bad: null } as never), TypeError);
      assert.equal(sb.of('/y').schemaFor('good'), undefined);
    } finally {
      await sb.close({ deadline: 50 });
    }
  });
});
