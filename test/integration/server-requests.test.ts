import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Socket, SwitchboardError, type Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { eventually, startServer } from '../helpers/server.js';

describe('server → client requests (socket.emitWithAck)', () => {
  let sb: Switchboard;
  let url: string;
  let latest: Socket | undefined = undefined;

  before(async () => {
    ({ sb, url } = await startServer({ ackTimeout: 200 }));
    sb.on('connection', (socket) => {
      latest = socket;
    });
  });
  after(() => sb.close());

  async function connected(): Promise<{ c: BareClient; socket: Socket }> {
    latest = undefined;
    const c = await BareClient.open(url);
    await c.hello();
    await eventually(() => latest !== undefined, 'the connection handler');
    return { c, socket: latest as unknown as Socket };
  }

  test("resolves with the client's reply data", async () => {
    const { c, socket } = await connected();
    const answer = socket.emitWithAck('confirm', { question: 'sure?' });
    const request = await c.next({ type: 'event', event: 'confirm' });
    assert.deepEqual(request.data, { question: 'sure?' });
    assert.equal(typeof request.ref, 'number');
    c.send({ type: 'reply', ref: request.ref, data: { yes: true } });
    assert.deepEqual(await answer, { yes: true });
    c.close();
  });

  test("rejects with the client's error reply as a SwitchboardError", async () => {
    const { c, socket } = await connected();
    const answer = socket.emitWithAck('confirm', null);
    const request = await c.next({ type: 'event', event: 'confirm' });
    c.send({ type: 'reply', ref: request.ref, error: { code: 'declined', message: 'no thanks' } });
    await assert.rejects(answer, (err: unknown) => err instanceof SwitchboardError && err.code === 'declined' && err.message === 'no thanks');
    c.close();
  });

  test('rejects with timeout when no reply comes (per-call timeout over the default)', async () => {
    const { c, socket } = await connected();
    // Told by order, not by a stopwatch: timers fire in order of their due times, however late.
    const settled: string[] = [];
    const note = (name: string, request: Promise<unknown>): Promise<void> =>
      request.then(
        () => void settled.push(`${name} answered`),
        (err: { code?: string }) => void settled.push(`${name} ${err.code}`),
      );
    const all = Promise.all([
      note('default', socket.emitWithAck('confirm', 1)),
      note('longer', socket.emitWithAck('confirm', 2, { timeout: 60_000 })),
      note('shorter', socket.emitWithAck('confirm', 3, { timeout: 50 })),
    ]);
    await eventually(() => settled.length === 2, 'the two shorter timeouts');
    assert.deepEqual(settled, ['shorter timeout', 'default timeout'], 'the per-call timeout applies, not the 200 ms default');
    const longer = c.frames.find((f) => f.event === 'confirm' && f.data === 2) ?? (await c.next({ type: 'event', data: 2 }));
    c.send({ type: 'reply', ref: longer.ref, data: 'late but within its own timeout' });
    await all;
    assert.deepEqual(settled, ['shorter timeout', 'default timeout', 'longer answered']);
    c.close();
  });

  test('rejects with disconnected when the client goes away first, and afterwards at once', async () => {
    const { c, socket } = await connected();
    // Close on purpose: with a dropped link (1006) the session would wait to be resumed instead.
    const answer = socket.emitWithAck('confirm', 1, { timeout: 5000 });
    await c.next({ type: 'event', event: 'confirm' });
    c.ws.close(1000);
    await assert.rejects(answer, { code: 'disconnected' });
    await assert.rejects(socket.emitWithAck('confirm', 2), { code: 'disconnected' });
    assert.equal(socket.emit('late', 1), false, 'emit to a gone client reports that nothing was sent');
  });

  test('a late or unknown reply is ignored', async () => {
    const { c, socket } = await connected();
    c.send({ type: 'reply', ref: 999, data: 'nobody asked' });
    const answer = socket.emitWithAck('confirm', 1);
    const request = await c.next({ type: 'event', event: 'confirm' });
    c.send({ type: 'reply', ref: request.ref, data: 'ok' });
    assert.equal(await answer, 'ok');
    c.close();
  });

  test('data JSON cannot carry, and reserved event names, are refused at the call', async () => {
    const { c, socket } = await connected();
    assert.throws(() => socket.emit('big', 10n as unknown), { code: 'unserializable' });
    assert.throws(() => sb.emit('big', 10n as unknown), { code: 'unserializable' });
    await assert.rejects(socket.emitWithAck('big', 10n as unknown), { code: 'unserializable' });
    assert.throws(() => socket.emit('disconnect', 1), { code: 'bad_request' });
    await assert.rejects(socket.emitWithAck('disconnect', 1), { code: 'bad_request' });
    c.close();
  });
});
