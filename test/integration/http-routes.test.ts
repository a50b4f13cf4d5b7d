import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, test } from 'node:test';
import { Switchboard } from '../../src/server/index.js';

describe('Switchboard.route: plain HTTP paths on the server port', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('on a server Switchboard created: the path and below it are answered, other paths are not', async () => {
    const sb = new Switchboard(0);
    closers.push(() => sb.close());
    sb.route('/metrics', (req, res) => res.end(`metrics ${req.url}`));
    await sb.ready();
    const base = `http://127.0.0.1:${sb.port}`;
    assert.equal(await (await fetch(`${base}/metrics`)).text(), 'metrics /metrics');
    assert.equal(await (await fetch(`${base}/metrics/x?y=1`)).text(), 'metrics /metrics/x?y=1');
    assert.equal((await fetch(`${base}/metricsx`)).status, 404);
  });

  test("on the app's server: in front of the app's listeners, which keep every other path", async () => {
    const http = createServer((_req, res) => res.end('app'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const sb = new Switchboard(http, { serveClient: false, transports: ['websocket'] });
    closers.push(() => new Promise((resolve) => http.close(resolve)), () => sb.close());
    sb.route('/admin', (_req, res) => res.end('admin'));
    const port = (http.address() as { port: number }).port;
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/admin`)).text(), 'admin');
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/other`)).text(), 'app');
  });

  test("a route on / takes every path but Switchboard's own: the HTTP transports and the client stay reachable", async () => {
    const sb = new Switchboard(0);
    closers.push(() => sb.close());
    sb.route('/', (req, res) => {
      res.end(`site ${req.url}`);
    });
    await sb.ready();
    const base = `http://127.0.0.1:${sb.port}`;
    assert.equal(await (await fetch(`${base}/index.html`)).text(), 'site /index.html');
    assert.notEqual(await (await fetch(`${base}/switchboard/client.js`)).text(), 'site /switchboard/client.js');
    const poll = await fetch(`${base}/ws/poll`);
    assert.notEqual(await poll.text(), 'site /ws/poll');
  });

  test('a handler that throws or rejects answers 500 and reports the error', async () => {
    const sb = new Switchboard(0);
    closers.push(() => sb.close());
    const errors: unknown[] = [];
    sb.on('error', (err) => errors.push(err));
    sb.route('/throws', () => {
      throw new Error('boom');
    });
    sb.route('/rejects', async () => {
      throw new Error('later');
    });
    // Not a Promise: any thenable (another promise library's) that rejects.
    sb.route('/thenable', () => ({ then: (_done: unknown, fail: (err: Error) => void) => fail(new Error('thenable')) }));
    await sb.ready();
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/throws`)).status, 500);
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/rejects`)).status, 500);
    // A thenable left uncaught would never be answered: fail instead of hanging.
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/thenable`, { signal: AbortSignal.timeout(10_000) })).status, 500);
    assert.deepEqual(errors.map((e) => (e as Error).message), ['boom', 'later', 'thenable']);
  });

  test('without an error listener, a failing handler goes to the logger (error, with phase and path)', async () => {
    const logged: { fields: Record<string, unknown>; message: string | undefined }[] = [];
    const quiet = () => undefined;
    const sb = new Switchboard(0, { logger: { error: (fields, message) => void logged.push({ fields, message }), warn: quiet, info: quiet, debug: quiet } });
    closers.push(() => sb.close());
    sb.route('/throws', () => {
      throw new Error('boom');
    });
    await sb.ready();
    assert.equal((await fetch(`http://127.0.0.1:${sb.port}/throws`)).status, 500);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.message, 'error in application handler');
    assert.equal(logged[0]?.fields.phase, 'route');
    assert.equal(logged[0]?.fields.path, '/throws');
    assert.equal((logged[0]?.fields.err as Error).message, 'boom');
  });

  test('bad paths and a path mounted twice throw TypeError', () => {
    const sb = new Switchboard(0);
    closers.push(() => sb.close());
    assert.throws(() => sb.route('metrics', () => {}), TypeError);
    assert.throws(() => sb.route('/a?b', () => {}), TypeError);
    sb.route('/m', () => {});
    assert.throws(() => sb.route('/m/', () => {}), /already mounted/);
  });
});
