/**
 * Mistakes a new user makes when starting a server get an error that says what to do:
 * an Express app instead of its HTTP server, `await sb.ready()` before `server.listen()`,
 * and options Switchboard does not have (Socket.IO's, typos).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { Switchboard } from '../../src/server/index.js';
import { whenListening } from '../../src/server/attached-server.js';
import { resolveOptions, type SwitchboardOptions } from '../../src/server/options.js';

/** What `express()` returns: a request handler function with `listen` (and no `on('upgrade')` of a server). */
function expressLikeApp(): ((req: IncomingMessage, res: ServerResponse) => void) & { listen: (port: number) => unknown } {
  const app = (_req: IncomingMessage, res: ServerResponse): void => void res.end('app');
  return Object.assign(app, { listen: (port: number) => createServer(app).listen(port) });
}

describe('the server argument', () => {
  test('an Express-style app is refused with the remedy: pass the http.Server', () => {
    const app = expressLikeApp();
    assert.throws(() => new Switchboard(app as never), {
      name: 'TypeError',
      message: /Express.*not an HTTP server.*app\.listen\(port\).*http\.createServer\(app\)/,
    });
  });

  test('other things that are not a server are refused too', () => {
    for (const value of [{}, 'http://localhost:3000', null]) {
      assert.throws(() => new Switchboard(value as never), { name: 'TypeError', message: /must be an http\.Server.*got/ }, String(value));
    }
  });
});

describe('ready()', () => {
  test('the usual order works: attach, listen, await ready()', async () => {
    const server = createServer();
    const sb = new Switchboard(server);
    server.listen(0, 'localhost'); // a host name: listening comes after a lookup, not at once
    await sb.ready();
    assert.ok(sb.port > 0);
    await sb.close();
    server.close();
  });

  test('a server already listening is ready at once', async () => {
    const server = createServer().listen(0);
    const sb = new Switchboard(server);
    await sb.ready();
    await sb.close();
    server.close();
  });

  test('awaited before listen() is called, it rejects with what to do instead of hanging', async (t) => {
    const server = createServer();
    const sb = new Switchboard(server);
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const ready = sb.ready();
    const outcome = ready.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    t.mock.timers.tick(10_000);
    assert.match(await outcome, /not listening.*Call server\.listen\(port\) before awaiting ready\(\)/);
    t.mock.timers.reset();
    await sb.close();
  });

  test('a listen() that fails rejects ready() with its error', async () => {
    const taken = createServer().listen(0);
    await new Promise((resolve) => taken.once('listening', resolve));
    const server = createServer();
    const waiting = whenListening(server);
    server.listen((taken.address() as { port: number }).port);
    await assert.rejects(waiting, { code: 'EADDRINUSE' });
    taken.close();
  });
});

describe('unknown options', () => {
  const refused = (options: Record<string, unknown>): string => {
    try {
      resolveOptions(options as SwitchboardOptions);
    } catch (err) {
      assert.ok(err instanceof TypeError, String(err));
      return err.message;
    }
    assert.fail(`${JSON.stringify(options)} was accepted`);
  };

  test("Socket.IO's options are refused, naming the Switchboard option to use", () => {
    assert.match(refused({ cors: { origin: 'http://localhost:5173' } }), /option "cors" is unknown: it is a Socket\.IO option; use allowedOrigins/);
    assert.match(refused({ pingInterval: 10_000 }), /"pingInterval".*use heartbeat\.interval/);
    assert.match(refused({ pingTimeout: 5000 }), /"pingTimeout".*use heartbeat\.timeout/);
    assert.match(refused({ maxHttpBufferSize: 1e6 }), /"maxHttpBufferSize".*use maxMessageBytes/);
    assert.match(refused({ connectionStateRecovery: {} }), /"connectionStateRecovery".*use resume/);
    assert.match(refused({ allowRequest: () => true }), /"allowRequest".*allowedOrigins with a function, or middleware/);
  });

  test('a typo gets the option it probably meant, at any level', () => {
    assert.match(refused({ allowedOrigin: ['https://a.example'] }), /"allowedOrigin" is unknown; did you mean "allowedOrigins"\?/);
    assert.match(refused({ maxMessageByte: 1 }), /did you mean "maxMessageBytes"/);
    assert.match(refused({ heartbeat: { intervall: 1000 } }), /"heartbeat\.intervall" is unknown; did you mean "heartbeat\.interval"/);
    assert.match(refused({ resume: { tll: 1000 } }), /"resume\.tll".*did you mean "resume\.ttl"/);
  });

  test('anything else is refused with the list of options', () => {
    assert.match(refused({ frobnicate: true }), /"frobnicate" is unknown; the options are path, transports, .*tls/);
  });

  test('every documented option is still accepted', () => {
    resolveOptions({
      path: '/rt',
      transports: ['websocket'],
      polling: { hold: 1000, maxResponseBytes: 1000 },
      heartbeat: { interval: 1000, timeout: 1000 },
      resume: { ttl: 1000, maxUnackedFrames: 10, maxUnackedBytes: 10, maxLogBytes: 10, silentTtl: 10 },
      handshakeRate: { perSecond: 1, burst: 1 },
      frameRate: false,
      allowedOrigins: '*',
      tls: undefined,
    });
    resolveOptions({ resume: false, handshakeRate: false });
  });
});

describe('renamed options', () => {
  test('an option under its old name says which one replaced it', () => {
    assert.throws(() => resolveOptions({ rateLimit: false } as never), /"rateLimit" is unknown: it was renamed; use frameRate instead/);
    assert.throws(() => resolveOptions({ maxRoomsPerConnection: 5 } as never), /use maxRoomsPerSocket instead/);
  });
});

describe('durable room limits', () => {
  test('an unknown limit throws a TypeError naming it; the old maxAgeMs names maxAge', async () => {
    const sb = new Switchboard(0);
    try {
      assert.throws(() => sb.durable('feed', { maxAgeMs: 1000 } as never), { name: 'TypeError', message: /limit "maxAgeMs" is unknown: it was renamed; use maxAge instead/ });
      assert.throws(() => sb.durable('feed', { maxMessage: 10 } as never), { name: 'TypeError', message: /limit "maxMessage" is unknown: the limits are maxMessages, maxAge/ });
      sb.durable('feed', { maxMessages: 10, maxAge: 1000 });
    } finally {
      await sb.close();
    }
  });
});
