/**
 * The assistant example's server (examples/assistant) without a browser: `ask` validates its
 * input, the question and the generator's exact answer arrive as token streams, and on Redis
 * two servers share the conversation while the worker publishes through the Emitter; Stop
 * (a reader's cancel) stops the generator, also when the answer streams in another process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { answerFor } from '../../examples/assistant/answer-generator.js';
import { type AssistantServer, startAssistantServer } from '../../examples/assistant/assistant-server.js';
import { connect, type SwitchboardClient } from '../../src/client/node.js';
import { type TokenMessage, TokenStreamReader } from '../../src/token-streams/client/index.js';
import { REDIS_URL, useRedisKeys } from '../helpers/redis.js';

const closing: (() => unknown)[] = [];
after(async () => {
  for (const close of closing.reverse()) await close();
});

async function started(options: Parameters<typeof startAssistantServer>[0]): Promise<AssistantServer> {
  const server = await startAssistantServer({ port: 0, host: '127.0.0.1', pace: 0.05, ...options });
  closing.push(() => server.close({ deadline: 100 }));
  return server;
}

function client(server: AssistantServer): SwitchboardClient {
  const c = connect(`ws://127.0.0.1:${server.port}/ws`, { transports: ['websocket'] });
  closing.push(() => c.close());
  return c;
}

/** Resolve with the reader's messages once two of them (question and answer) have ended. */
function conversationEnded(reader: TokenStreamReader): Promise<TokenMessage[]> {
  return new Promise((resolve) => {
    const check = (): void => {
      const all = reader.messages;
      if (all.length === 2 && all.every((m) => m.done || m.failed)) resolve(all);
    };
    reader.on('message', check).on('reset', check);
    check();
  });
}

/** Resolve with message `id` once `check` holds for it. */
function answerHas(reader: TokenStreamReader, id: string, check: (m: TokenMessage) => boolean): Promise<TokenMessage> {
  return new Promise((resolve) => {
    const test = (): void => {
      const m = reader.message(id);
      if (m && check(m)) {
        reader.off('message', test).off('reset', test);
        resolve(m);
      }
    };
    reader.on('message', test).on('reset', test);
    test();
  });
}

describe('assistant server', () => {
  test('ask: the question, then the generator’s exact answer, each a token stream; bad input refused', async () => {
    const server = await started({});
    const c = client(server);
    const reader = new TokenStreamReader(c, 'chat:plain');
    closing.push(() => reader.close());
    await reader.ready;
    await assert.rejects(c.emitWithAck('ask', { conversation: 'no spaces allowed', text: 'hi' }), { code: 'bad_request' });
    await assert.rejects(c.emitWithAck('ask', { conversation: 'plain', text: '   ' }), { code: 'bad_request' });
    await assert.rejects(c.join('elsewhere'), { code: 'forbidden' });

    const ids = (await c.emitWithAck('ask', { conversation: 'plain', text: 'Is it deterministic?' })) as { question: string; answer: string };
    const [question, answer] = await conversationEnded(reader);
    assert.deepEqual([question?.id, question?.text, question?.meta], [ids.question, 'Is it deterministic?', { role: 'user' }]);
    assert.deepEqual([answer?.id, answer?.text, answer?.done, answer?.meta], [ids.answer, answerFor('Is it deterministic?'), true, { role: 'assistant' }]);
    assert.ok((answer?.chunks ?? 0) > 10, 'streamed in many chunks');
  });

  test('close fails the answers still streaming (interrupted), so no page waits for ever', async () => {
    const server = await started({ pace: 5 });
    const c = client(server);
    const reader = new TokenStreamReader(c, 'chat:cut');
    closing.push(() => reader.close());
    await reader.ready;
    await c.emitWithAck('ask', { conversation: 'cut', text: 'Will this be cut short?' });
    await new Promise<void>((resolve) => {
      const check = (m: TokenMessage): void => {
        if ((m.meta as { role?: string })?.role === 'assistant' && m.text.length > 0) resolve();
      };
      reader.on('message', check);
    });
    await server.worker.close();
    assert.equal(server.worker.streaming, 0);
    const fails = (await server.sb.history('chat:cut')).publications.filter((p) => p.event === 'token-stream:fail');
    assert.equal(fails.length, 1);
    assert.equal((fails[0]?.data as { code: string }).code, 'interrupted');
  });

  test('Stop: a reader cancels the answer mid-stream; the generator stops and the answer ends cancelled with its text so far', async () => {
    const server = await started({ pace: 2 });
    const c = client(server);
    const reader = new TokenStreamReader(c, 'chat:stop');
    closing.push(() => reader.close());
    await reader.ready;
    const ids = (await c.emitWithAck('ask', { conversation: 'stop', text: 'Stop me?' })) as { answer: string };
    await answerHas(reader, ids.answer, (m) => m.text.length > 10);
    await reader.cancel(ids.answer);
    assert.equal(server.worker.streaming, 0, 'the generator stopped');
    const m = await answerHas(reader, ids.answer, (x) => x.failed);
    assert.equal(m.error?.code, 'cancelled');
    assert.ok(answerFor('Stop me?').startsWith(m.text) && m.text.length < answerFor('Stop me?').length, 'a prefix of the answer');
    await assert.rejects(reader.cancel(ids.answer), { code: 'stream_closed' });
  });

  describe('on Redis', () => {
    const keys = useRedisKeys();
    test('two servers share a conversation; the worker publishes through the Emitter', async () => {
      const redisPrefix = keys.prefix('assistant');
      const one = await started({ redisUrl: REDIS_URL, redisPrefix });
      const two = await started({ redisUrl: REDIS_URL, redisPrefix });
      const asker = client(one);
      const watcher = new TokenStreamReader(client(two), 'chat:shared');
      closing.push(() => watcher.close());
      await watcher.ready;
      await asker.emitWithAck('ask', { conversation: 'shared', text: 'Across two nodes?' });
      const [, answer] = await conversationEnded(watcher);
      assert.equal(answer?.text, answerFor('Across two nodes?'));
    });

    test('Stop from a page on another process: the request crosses to the process whose worker streams the answer through the Emitter', async () => {
      const redisPrefix = keys.prefix('assistant-stop');
      // `npm run start:assistant` with REDIS_URL, in a process of its own.
      const other = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../examples/assistant/server.ts', import.meta.url))], {
        env: { ...process.env, PORT: '0', REDIS_URL, REDIS_PREFIX: redisPrefix },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      closing.push(async () => {
        if (other.exitCode === null && other.signalCode === null) {
          other.kill('SIGTERM');
          await once(other, 'exit');
        }
      });
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        other.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /localhost:(\d+)\//.exec(out);
          if (m) resolve(Number(m[1]));
        });
        other.once('exit', (code) => reject(new Error(`the assistant process exited (${code}): ${out}`)));
      });
      const here = await started({ redisUrl: REDIS_URL, redisPrefix });
      const asker = connect(`ws://127.0.0.1:${port}/ws`, { transports: ['websocket'] });
      closing.push(() => asker.close());
      const reader = new TokenStreamReader(client(here), 'chat:far');
      closing.push(() => reader.close());
      await reader.ready;
      const ids = (await asker.emitWithAck('ask', { conversation: 'far', text: 'Can you stop from afar?' })) as { answer: string };
      await answerHas(reader, ids.answer, (m) => m.text.length > 10);
      await reader.cancel(ids.answer);
      const m = await answerHas(reader, ids.answer, (x) => x.failed);
      assert.equal(m.error?.code, 'cancelled');
      assert.ok(answerFor('Can you stop from afar?').startsWith(m.text), 'a prefix of the answer');
      assert.equal(here.worker.streaming, 0, 'this process never streamed it');
    });
  });
});
