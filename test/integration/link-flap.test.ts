/**
 * The link-flap harness itself, against a real TCP echo server: chunks keep their order
 * under jitter, an outage blackholes or cuts what is open and turns new attempts away, and
 * the timeline ends by itself with the link up.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { FlapLink, profile } from '../helpers/link-flap.js';

let echo: Server;
let port: number;
before(async () => {
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  port = (echo.address() as AddressInfo).port;
});
after(() => echo.close());

const steady = profile({ latencyMs: 5, jitterMs: 20 });

async function dial(link: FlapLink): Promise<Socket> {
  const s = connect(link.port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** Resolves with how the socket ended: 'close' with or without an error, or 'open' still after `ms`. */
function fate(s: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let error = '';
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? 'error'));
    s.on('close', () => resolve(error || 'close'));
    setTimeout(() => resolve('open'), ms).unref();
  });
}

test('with latency and jitter every byte comes back, in order', async () => {
  const link = await FlapLink.open(port, steady, 1, 0);
  const s = await dial(link);
  let got = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (got += d));
  const sent = Array.from({ length: 300 }, (_, i) => `${i};`);
  for (const piece of sent) {
    s.write(piece);
    await new Promise((r) => setImmediate(r));
  }
  const expected = sent.join('');
  while (got.length < expected.length) await new Promise((r) => setTimeout(r, 20));
  assert.equal(got, expected);
  s.destroy();
  await link.close();
});

test('a blackhole drops bytes without closing anything; an RST or FIN cut closes; attempts during an outage fail', async () => {
  const link = await FlapLink.open(port, steady, 2, 0);
  const silent = await dial(link);
  let after = 0;
  link.down('blackhole');
  silent.on('data', () => after++);
  silent.write('lost');
  assert.equal(await fate(silent, 300), 'open', 'a blackholed connection stays open');
  assert.equal(after, 0, 'nothing came back through the blackhole');
  assert.equal(link.stats.blackholed, 1);
  const attempt = connect(link.port, '127.0.0.1');
  assert.notEqual(await fate(attempt, 1000), 'open', 'a new attempt during the outage is turned away');
  assert.equal(link.stats.refused, 1);
  silent.destroy();
  await link.close();

  for (const kind of ['reset', 'fin'] as const) {
    const cutLink = await FlapLink.open(port, steady, 3, 0);
    const s = await dial(cutLink);
    await new Promise((r) => setTimeout(r, 50)); // the upstream side is connected
    cutLink.down(kind);
    assert.notEqual(await fate(s, 1000), 'open', `${kind}: the client's connection is closed`);
    await cutLink.close();
  }
});

test('the timeline ends by itself, with the link up', async () => {
  const quick = profile({ up: [50, 100], shortOut: [20, 40], longOut: [50, 80], latencyMs: 0, jitterMs: 0 });
  const link = await FlapLink.open(port, quick, 4, 600);
  link.start();
  await link.done;
  assert.ok(link.timeline.length > 0 && link.stats.outages === link.timeline.length);
  assert.equal(link.isOut, false);
  const s = await dial(link);
  s.write('ping');
  const [data] = (await once(s, 'data')) as [Buffer];
  assert.equal(data.toString(), 'ping');
  s.destroy();
  await link.close();
});
