/**
 * A backend in Python's standard library publishes through the HTTP API:
 * test/interop/publish_client.py (whose publishing code is the example of docs/API.md, word
 * for word) runs against a real server, and a connected client of the user gets the
 * order once, however often the script retried it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { BareClient } from '../helpers/bare-client.js';
import { type ApiNode, startApiNode } from '../helpers/http-api.js';

const run = promisify(execFile);
const KEY = 'python-backend-key-61d0a4f2';
let node: ApiNode;

before(async () => {
  node = await startApiNode({ keys: [KEY] });
  node.sb.use((socket, next) => {
    socket.user = (socket.handshake.auth as { user: string }).user;
    next();
  });
  node.sb.durableUsers();
});
after(() => node.close());

test('the Python example publishes to a user once, batches, reads history and gets clear errors', async () => {
  const alice = await BareClient.open(node.url);
  await alice.hello({ auth: { user: 'alice' } });
  const news = await BareClient.open(node.url);
  await news.hello({ auth: { user: 'reader' } });
  news.send({ type: 'join', ref: 1, room: 'news' });
  await news.next({ type: 'reply', ref: 1 });

  const { stdout } = await run('python3', ['test/interop/publish_client.py', node.base, KEY], { timeout: 30_000 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; answer?: Record<string, unknown>; status?: number; code?: string });
  const [published, ...rest] = lines;
  const position = published?.answer?.position as { epoch: string; offset: number };
  assert.equal(published?.kind, 'published');
  assert.equal(position.offset, 1);
  const retried = rest.filter((l) => l.kind === 'retried');
  assert.deepEqual(retried.map((l) => l.answer), [{ position }, { position }, { position }], 'each retry got the first answer');
  const batch = lines.find((l) => l.kind === 'batch')?.answer?.results as { status: number; code?: string }[];
  assert.deepEqual(batch.map((r) => [r.status, r.code]), [[200, undefined], [200, undefined], [400, 'bad_request']]);
  const history = lines.find((l) => l.kind === 'history')?.answer?.publications as { event: string; data: unknown }[];
  assert.deepEqual(history.map((p) => [p.event, p.data]), [['order', { id: 42, total: '9.90' }]]);
  assert.deepEqual(lines.find((l) => l.kind === 'wrong_key'), { kind: 'wrong_key', status: 401, code: 'unauthorized' });
  assert.deepEqual(lines.find((l) => l.kind === 'bad_body'), { kind: 'bad_body', status: 400, code: 'bad_request' });
  assert.equal(lines.at(-1)?.kind, 'done');

  // Delivered to the connected user once, before the script's last publication.
  await alice.next({ event: 'end' });
  const orders = alice.frames.filter((f) => f.event === 'order');
  assert.deepEqual(orders.map((f) => [f.data, f.position]), [[{ id: 42, total: '9.90' }, position]]);
  assert.deepEqual([(await news.next({ event: 'headline' })).data, (await news.next({ event: 'headline' })).data], [1, 2]);
  alice.close();
  news.close();
});

test('docs/API.md shows the publishing code of the Python example word for word', () => {
  const script = readFileSync(new URL('../interop/publish_client.py', import.meta.url), 'utf8');
  const code = /# --- docs: begin\n([\s\S]*?)# --- docs: end\n/.exec(script)?.[1];
  assert.ok(code, 'the script has the docs markers');
  const api = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
  const blocks = [...api.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.some((block) => block?.includes(code)), 'a python block of docs/API.md contains the code between the markers of test/interop/publish_client.py');
});
