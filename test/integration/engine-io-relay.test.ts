/**
 * Two Engine.IO servers as two nodes of a cluster: a polling request that reaches the node
 * not holding its connection is forwarded (`cluster.forward`, faked here by calling the
 * other server's `answerForwarded` with a JSON copy, as a real adapter would carry it) and
 * answered from there. A real engine.io-client behind a round-robin balancer without
 * sticky sessions keeps working; a dead owner node answers code 1 so the client starts over.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Socket } from 'engine.io-client';
import type { EngineServer } from '../../src/compat/socketio/engine-server.js';
import { eventually, raw, rawHandshake, startEngine, type EngineFixture } from '../helpers/engine-host.js';

/** A load balancer that sends each request to the next node in turn: no sticky sessions. */
async function roundRobin(ports: number[]): Promise<{ server: Server; base: string; counts: number[] }> {
  const counts = ports.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const index = next++ % ports.length;
    counts[index] = (counts[index] ?? 0) + 1;
    const upstream = httpRequest({ host: '127.0.0.1', port: ports[index], path: req.url, method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts };
}

describe('Engine.IO relay between nodes', () => {
  const nodes = new Map<string, EngineServer>();
  const forward = async (node: string, request: unknown): Promise<unknown> => {
    const engine = nodes.get(node);
    if (!engine) throw new Error(`node ${node} does not answer`);
    // As over Redis: JSON there and back.
    const answer = await engine.answerForwarded(JSON.parse(JSON.stringify(request)));
    return answer === undefined ? undefined : JSON.parse(JSON.stringify(answer ?? null));
  };
  let a: EngineFixture;
  let b: EngineFixture;
  let balancer: Awaited<ReturnType<typeof roundRobin>>;
  before(async () => {
    a = await startEngine({ nodeId: 'A', forward, settings: { pingInterval: 200, pingTimeout: 1000 } });
    b = await startEngine({ nodeId: 'B', forward, settings: { pingInterval: 200, pingTimeout: 1000 } });
    nodes.set('A', a.engine);
    nodes.set('B', b.engine);
    balancer = await roundRobin([a.port, b.port]);
  });
  after(async () => {
    balancer.server.closeAllConnections();
    await new Promise<void>((resolve) => balancer.server.close(() => resolve()));
    await a.stop();
    await b.stop();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test('a polling client whose requests alternate between the nodes keeps working, heartbeats included', async () => {
    const socket = new Socket(balancer.base, { path: '/socket.io/', transports: ['polling'] });
    const messages: unknown[] = [];
    socket.on('message', (data) => messages.push(data));
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    const owner = [...a.connections, ...b.connections].find((c) => c.connection.id === socket.id);
    assert.ok(owner, 'one node holds the connection');
    const requestsBefore = [...balancer.counts];
    for (let i = 0; i < 20; i++) socket.send(`m${i}`);
    socket.send(new Uint8Array([7, 8]));
    await eventually(() => messages.length === 21, 'every echo');
    assert.deepEqual(messages.slice(0, 20), Array.from({ length: 20 }, (_, i) => `m${i}`));
    assert.deepEqual([...new Uint8Array(messages[20] as ArrayBuffer)], [7, 8]);
    assert.deepEqual(owner.messages.slice(0, 20), Array.from({ length: 20 }, (_, i) => `m${i}`));
    // Heartbeats across the relay: several pings answered while polls went through both nodes.
    await eventually(() => owner.heartbeats.filter((h) => h === 'pong').length >= 3, 'three pongs');
    assert.ok(balancer.counts.every((count, i) => count > (requestsBefore[i] ?? 0)), 'both nodes took requests');
    assert.equal(owner.connection.isOpen, true);
    const closed = new Promise<string>((resolve) => socket.once('close', (reason) => resolve(reason)));
    owner.connection.close();
    assert.equal(await closed, 'transport close');
  });

  test('a dead owner node: code 1 "Session ID unknown", so the client starts over', async () => {
    const sid = await rawHandshake(`http://127.0.0.1:${b.port}`);
    assert.match(sid, /^B\./);
    const relayed = await raw(`http://127.0.0.1:${a.port}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '4hi' });
    assert.equal(relayed.status, 200);
    assert.equal(relayed.body, 'ok');
    nodes.delete('B');
    try {
      const dead = await raw(`http://127.0.0.1:${a.port}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(dead.status, 400);
      assert.deepEqual(JSON.parse(dead.body), { code: 1, message: 'Session ID unknown' });
    } finally {
      nodes.set('B', b.engine);
    }
  });

  test('answerForwarded leaves requests of other doors alone', () => {
    assert.equal(a.engine.answerForwarded({ kind: 'poll', cid: 'x', id: 'y' }), undefined);
    assert.equal(a.engine.answerForwarded(null), undefined);
  });
});
