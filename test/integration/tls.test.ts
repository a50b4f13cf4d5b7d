/**
 * TLS: with the `tls` option the server Switchboard creates serves https:// and wss://;
 * an app's own https server works too. The certificate is self-signed and made at test
 * time with the openssl CLI; clients trust it through `ca`, so verification stays on.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer, get as httpsGet, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect, type SwitchboardError, type WebSocketConstructor } from '../../src/client/node.js';
import { Switchboard } from '../../src/server/index.js';
import { eventually } from '../helpers/server.js';
import { selfSignedCertificate, type SelfSigned } from '../helpers/self-signed.js';

const fastReconnect = { reconnect: { delay: 20, maxDelay: 100 } };
let pem: SelfSigned;
let sb: Switchboard;
let port: number;

/** The SDK's WebSocket option: `ws`, trusting the test certificate (a browser would use its trust store). */
function trustingWebSocket(ca: string): WebSocketConstructor {
  return class TrustingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { ca });
    }
  };
}

function httpsText(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: '127.0.0.1', port, path, ca: pem.cert, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

before(async () => {
  pem = selfSignedCertificate();
  sb = new Switchboard(0, { tls: { key: pem.key, cert: pem.cert } });
  await sb.ready();
  port = sb.port;
  sb.on('connection', (socket) => {
    socket.on('shout', (text: string) => {
      socket.emit('echo', text.toUpperCase());
      return `got ${text}`;
    });
  });
});

after(async () => {
  await sb.close({ deadline: 50 });
});

describe('wss:// from a port with the tls option', () => {
  test('the server is https, with the slow-client time limits', () => {
    assert.ok(sb.httpServer instanceof HttpsServer);
    assert.equal(sb.httpServer.headersTimeout, 10_000);
    assert.equal(sb.httpServer.requestTimeout, 30_000);
  });

  test('the SDK connects over wss and exchanges an event and an ack', async () => {
    const client = connect(`wss://localhost:${port}/ws`, { ...fastReconnect, WebSocket: trustingWebSocket(pem.cert) });
    try {
      const echoed = new Promise<string>((resolve) => client.once('echo', (text: string) => resolve(text)));
      assert.equal(await client.emitWithAck('shout', 'over tls'), 'got over tls');
      assert.equal(await echoed, 'OVER TLS');
    } finally {
      client.close();
    }
  });

  test('the certificate is verified: without the ca the SDK cannot connect and keeps retrying', async () => {
    const client = connect(`wss://localhost:${port}/ws`, fastReconnect);
    const errors: SwitchboardError[] = [];
    client.on('connect_error', (error) => errors.push(error as SwitchboardError));
    try {
      await eventually(() => errors.length >= 2, 'two failed attempts');
      assert.equal(client.state, 'connecting');
      assert.match(errors[0]?.message ?? '', /self-signed certificate/);
    } finally {
      client.close();
    }
  });

  test('a plain ws:// client to the TLS port fails, and the server keeps serving wss', async () => {
    const plain = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'switchboard.v1');
    let opened = false;
    plain.on('open', () => (opened = true));
    const [error] = (await once(plain, 'error')) as [Error];
    assert.ok(error instanceof Error);
    assert.equal(opened, false);

    const secure = new WebSocket(`wss://localhost:${port}/ws`, 'switchboard.v1', { ca: pem.cert });
    await once(secure, 'open');
    secure.send(JSON.stringify({ type: 'hello', v: 1 }));
    const [welcome] = (await once(secure, 'message')) as [Buffer];
    assert.equal(JSON.parse(String(welcome)).type, 'welcome');
    secure.close();
  });

  test('plain HTTPS requests: the endpoint says to use wss://, the browser client is served', async () => {
    const endpoint = await httpsText('/ws');
    assert.equal(endpoint.status, 426);
    assert.match(endpoint.body, /wss:\/\/host\/ws/);
    const client = await httpsText('/switchboard/client.js');
    assert.equal(client.status, 200);
  });
});

describe('wss:// on the app’s own https server', () => {
  test('Switchboard attaches to an https.Server like to an http one', async () => {
    const server = createHttpsServer({ key: pem.key, cert: pem.cert }, (_req, res) => res.end('app'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const own = new Switchboard(server);
    own.on('connection', (socket) => socket.on('ping-me', () => 'pong'));
    const client = connect(`wss://localhost:${(server.address() as AddressInfo).port}/ws`, { ...fastReconnect, WebSocket: trustingWebSocket(pem.cert) });
    try {
      assert.equal(await client.emitWithAck('ping-me'), 'pong');
    } finally {
      client.close();
      await own.close({ deadline: 50 });
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('the tls option with a server of the app’s own is a mistake, refused at once', () => {
    const server = createHttpsServer({ key: pem.key, cert: pem.cert });
    assert.throws(() => new Switchboard(server, { tls: { key: pem.key, cert: pem.cert } }), { name: 'TypeError', message: /https\.createServer/ });
  });
});
