/**
 * A close frame without a status code, which either side reports as 1005 (`no_status`):
 * what the server does when a client closes that way, and what the SDK does when a server
 * (or something between) does. docs/ERRORS.md says the same.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StateChange } from '../../src/client/node.js';
import { CloseCode, shouldReconnectAfter } from '../../src/protocol/close-codes.js';
import type { Switchboard } from '../../src/server/index.js';
import { BareClient } from '../helpers/bare-client.js';
import { ScriptedServer } from '../helpers/scripted-server.js';
import { startServer } from '../helpers/server.js';

let sb: Switchboard;
let url: string;
before(async () => {
  ({ sb, url } = await startServer());
});
after(() => sb.close());

test('a client closing without a code (a bare ws.close()) has left on purpose: its session ends at once, not kept for resume', async () => {
  const ended = new Promise<string>((resolve) => sb.on('connection', (socket) => socket.on('disconnect', (reason) => resolve(reason))));
  const client = await BareClient.open(url);
  await client.hello();
  client.close();
  assert.equal((await client.closed).code, CloseCode.NoStatus, 'ws reports a close frame without a code as 1005');
  assert.equal(await ended, 'client_disconnect', 'not transport_closed after a resume TTL');
});

test('the SDK does not reconnect after a server closes without a code: disconnected, transport_closed, close code 1005', async () => {
  assert.equal(shouldReconnectAfter(CloseCode.NoStatus), false);
  const server = await ScriptedServer.start();
  try {
    const { client, conn } = await server.openConnected();
    const changes: StateChange[] = [];
    const settled = new Promise<StateChange>((resolve) =>
      client.on('state', (change) => {
        changes.push(change);
        // A reconnect would go to `connecting` first: `disconnected` is the end of it.
        if (change.state !== 'connected') resolve(change);
      }),
    );
    conn.socket.close();
    const change = await settled;
    assert.equal(change.state, 'disconnected', `changes: ${JSON.stringify(changes)}`);
    assert.equal(change.reason, 'transport_closed');
    assert.equal(change.closeCode, CloseCode.NoStatus);
    client.close();
  } finally {
    await server.close();
  }
});
