import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { BareClient } from '../helpers/bare-client.js';

// What `npm start` runs, started as a newcomer would, on a free port.
test('the demo server serves its page and the protocol, and exits 0 on SIGTERM after telling clients 1001', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk;
        const match = /localhost:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });

    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(page, /<title>Switchboard demo<\/title>/);

    const alice = await BareClient.open(`ws://127.0.0.1:${port}/ws`);
    const bob = await BareClient.open(`ws://127.0.0.1:${port}/ws`);
    for (const c of [alice, bob]) {
      await c.hello();
      c.send({ type: 'join', ref: 1, room: 'lobby' });
      await c.next({ ref: 1 });
    }
    alice.send({ type: 'event', event: 'say', data: { text: 'hi bob' }, ref: 2 });
    assert.equal(typeof ((await alice.next({ ref: 2 })).data as { at: number }).at, 'number');
    assert.equal(((await bob.next({ type: 'event', event: 'said' })).data as { text: string }).text, 'hi bob');
    alice.send({ type: 'event', event: 'say', data: { text: '' }, ref: 3 });
    assert.equal(((await alice.next({ ref: 3 })).error as { code: string }).code, 'bad_request');

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    assert.equal((await alice.closed).code, 1001);
    assert.equal((await bob.closed).code, 1001);
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
