/** The SDK's half of presence against a scripted server: the request, its errors, and `presence` events by namespace. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connect, type PresenceEvent, type PresenceMember, SwitchboardError, type SwitchboardClient } from '../../src/client/node.js';
import { type Frame, nextEvent, type ScriptedConnection, ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
beforeEach(async () => {
  server = await ScriptedServer.start();
});

afterEach(() => server.close());

const ann: PresenceMember = { user: 'ann', info: { name: 'Ann' } };
const bob: PresenceMember = { user: 'bob', info: null };

/** Take the next presence request off the wire and answer it with `reply` (data or error); resolves with the request. */
async function answer(conn: ScriptedConnection, reply: { data?: unknown; error?: { code: string; message: string } }): Promise<Frame> {
  const frame = await conn.nextFrame('presence');
  conn.send({ type: 'reply', ref: frame.ref, ...reply });
  return frame;
}

/** Wait until the client has handled every frame sent before this call (frames are handled in order). */
async function sync(client: SwitchboardClient, conn: ScriptedConnection, ns?: string): Promise<void> {
  const handled = nextEvent(client, 'sync');
  conn.send({ type: 'event', event: 'sync', ...(ns ? { ns } : {}) });
  await handled;
}

function recordPresence(client: SwitchboardClient): PresenceEvent[] {
  const seen: PresenceEvent[] = [];
  client.on('presence', (event) => seen.push(event));
  return seen;
}

describe('presence(room)', () => {
  it('sends a presence request and resolves with the members of the reply', async () => {
    const { client, conn } = await server.openConnected();
    const members = client.presence('room:1');
    const frame = await answer(conn, { data: { room: 'room:1', members: [ann, bob] } });
    assert.deepEqual(await members, [ann, bob]);
    assert.deepEqual({ ...frame, ref: 0 }, { type: 'presence', ref: 0, room: 'room:1' });
    assert.equal(typeof frame.ref, 'number');
  });

  it('carries the namespace of an of() handle', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const members = admin.presence('room:ops');
    const frame = await answer(conn, { data: { room: 'room:ops', members: [] } });
    assert.deepEqual(await members, []);
    assert.deepEqual({ ...frame, ref: 0 }, { type: 'presence', ref: 0, ns: '/admin', room: 'room:ops' });
  });

  it("rejects with a SwitchboardError of the server's code", async () => {
    const { client, conn } = await server.openConnected();
    const untracked = client.presence('lobby');
    void answer(conn, { error: { code: 'presence_not_tracked', message: 'room "lobby" has no presence tracking' } });
    const error = await untracked.then(
      () => assert.fail('presence of an untracked room resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, 'presence_not_tracked');

    const down = client.presence('room:1');
    void answer(conn, { error: { code: 'cluster_unavailable', message: 'redis is down' } });
    await assert.rejects(down, { code: 'cluster_unavailable' });
  });

  it('rejects a bad room name locally, and everything once closed', async () => {
    const { client, conn } = await server.openConnected();
    await assert.rejects(client.presence(''), { code: 'bad_request' });
    await assert.rejects(client.presence('x'.repeat(1000)), { code: 'bad_request' });
    await sync(client, conn);
    assert.deepEqual(conn.ofType('presence'), []);
    client.close();
    await assert.rejects(client.presence('room:1'), { code: 'closed' });
  });

  it('waits for the connection when called before the welcome', async () => {
    server.script.hello = () => {};
    const client = server.adopt(connect(server.url));
    const members = client.presence('room:1');
    const conn = await server.nextConnection();
    await conn.nextFrame('hello');
    assert.deepEqual(conn.ofType('presence'), [], 'nothing goes out before the welcome');
    server.welcome(conn);
    await answer(conn, { data: { room: 'room:1', members: [bob] } });
    assert.deepEqual(await members, [bob]);
  });

  it('rejects with timeout when the server does not answer within ackTimeout', async () => {
    const { client } = await server.openConnected({ ackTimeout: 50 });
    await assert.rejects(client.presence('room:1'), { code: 'timeout' });
  });
});

describe('the presence event', () => {
  it('turns presence frames into presence events with room, kind, user and info', async () => {
    const { client, conn } = await server.openConnected();
    const seen = recordPresence(client);
    conn.send({ type: 'presence', room: 'room:1', kind: 'join', user: 'ann', info: { name: 'Ann' } });
    conn.send({ type: 'presence', room: 'room:1', kind: 'leave', user: 'ann', info: { name: 'Ann' } });
    conn.send({ type: 'presence', room: 'room:2', kind: 'join', user: 'bob' }); // info left out: null
    await sync(client, conn);
    assert.deepEqual(seen, [
      { room: 'room:1', kind: 'join', user: 'ann', info: { name: 'Ann' } },
      { room: 'room:1', kind: 'leave', user: 'ann', info: { name: 'Ann' } },
      { room: 'room:2', kind: 'join', user: 'bob', info: null },
    ]);
  });

  it('goes to the namespace the frame names, and only there', async () => {
    const { client, conn } = await server.openConnected();
    const admin = client.of('/admin');
    await nextEvent(admin, 'connect');
    const rootSeen = recordPresence(client);
    const adminSeen = recordPresence(admin);
    conn.send({ type: 'presence', ns: '/admin', room: 'room:ops', kind: 'join', user: 'ann', info: null });
    conn.send({ type: 'presence', room: 'room:1', kind: 'join', user: 'bob', info: null });
    conn.send({ type: 'presence', ns: '/nowhere', room: 'room:1', kind: 'join', user: 'eve', info: null });
    await sync(admin, conn, '/admin');
    await sync(client, conn);
    assert.deepEqual(adminSeen, [{ room: 'room:ops', kind: 'join', user: 'ann', info: null }]);
    assert.deepEqual(rootSeen, [{ room: 'room:1', kind: 'join', user: 'bob', info: null }]);
  });

  it('is never fed by an app event named "presence"; a request of that name is refused', async () => {
    const { client, conn } = await server.openConnected();
    const seen = recordPresence(client);
    conn.send({ type: 'event', event: 'presence', data: { room: 'room:1', kind: 'join', user: 'mallory', info: null } });
    conn.send({ type: 'event', event: 'presence', ref: 7, data: { room: 'room:1', kind: 'leave', user: 'mallory', info: null } });
    const reply = await conn.nextFrame((f) => f.type === 'reply' && f.ref === 7);
    assert.equal((reply.error as { code: string } | undefined)?.code, 'bad_request', 'the request is refused, not handled');
    conn.send({ type: 'presence', room: 'room:1', kind: 'join', user: 'ann', info: null });
    await sync(client, conn);
    assert.deepEqual(seen, [{ room: 'room:1', kind: 'join', user: 'ann', info: null }]);
  });

  it('types the listener like the other lifecycle events', async () => {
    const { client } = await server.openConnected();
    // Compile-time: the payload is a PresenceEvent, not app data with meta.
    client.on('presence', (event) => {
      const kind: 'join' | 'leave' = event.kind;
      const user: string = event.user;
      void [kind, user, event.room, event.info];
    });
    const typed = client as unknown as SwitchboardClient<{ chat: (text: string) => void }>;
    typed.on('presence', (event: PresenceEvent) => void event);
    client.off('presence');
  });
});
