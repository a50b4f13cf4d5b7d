/**
 * The chat `npm start` runs, with a page in headless Chromium (the native SDK) and an
 * unchanged socket.io-client in Node in the same room: each sees the other's messages,
 * joined/left notices and typing, over Socket.IO's long-polling in one test and its
 * WebSocket in another; then examples/chat/socketio-client.mjs, the script a person runs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Socket as SioSocket } from 'socket.io-client';
import { type ChatServer, startChatServer } from '../../examples/chat/chat-server.js';
import type { ChatMessage, JoinedRoom, PresenceNotice } from '../../examples/chat/chat-events.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';
import { eventually } from '../helpers/server.js';
import { closeSocketsAfterEach, connected, Received, sio } from '../helpers/socketio.js';

const browser = useBrowser();
closeSocketsAfterEach();
const WAIT_MS = 15_000;

before(() => {
  // The page imports the SDK from /switchboard/client.js, served from this build (see chat.test.ts).
  if (!existsSync('dist/browser/switchboard-client.js')) execFileSync(process.execPath, ['scripts/build-browser-client.mjs'], { stdio: 'inherit' });
});

/** The chat at `url`, signed in as `name`, in `room`, connected. */
async function openChat(url: string, name: string, room: string): Promise<TestPage> {
  const opened = await browser.newPage();
  await opened.page.goto(`${url}#${encodeURIComponent(room)}`);
  await opened.page.fill('#name-input', name);
  await opened.page.click('#name-submit');
  await opened.page.locator('#room-name', { hasText: room }).waitFor({ timeout: WAIT_MS });
  await opened.page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
  return opened;
}

function message(page: Page, name: string, text: string) {
  return page
    .locator('#log > [data-testid="message"]')
    .filter({ has: page.locator('[data-testid="message-text"]', { hasText: text }) })
    .filter({ has: page.locator('[data-testid="message-name"]', { hasText: name }) });
}

function notice(page: Page, text: string) {
  return page.locator('#log > [data-testid="notice"]', { hasText: text });
}

function typingLine(page: Page, text: string) {
  return page.locator('#typing', { hasText: text });
}

function noProblems(...pages: TestPage[]): void {
  for (const p of pages) assert.deepEqual(p.problems, [], 'no errors in the page');
}

describe('the chat with a page and a socket.io-client in one room', () => {
  let chat: ChatServer;
  let url: string;
  before(async () => {
    chat = await startChatServer({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${chat.port}/`;
  });
  after(() => chat.close());

  for (const transport of ['polling', 'websocket'] as const) {
    test(`socket.io-client over ${transport} only: messages, joined/left notices and typing both ways`, async () => {
      const room = `sio ${transport}`;
      const ada = await openChat(url, 'Ada', room);

      const bob: SioSocket = await connected(sio(url, { auth: { name: 'Bob' }, transports: [transport] }));
      assert.equal(bob.io.engine.transport.name, transport);
      const got = new Received(bob);
      const joined = (await bob.emitWithAck('joinRoom', { room })) as JoinedRoom;
      assert.equal(joined.room, room);
      assert.equal(joined.online, 2);
      await notice(ada.page, 'Bob joined · 2 online').waitFor({ timeout: WAIT_MS });
      assert.equal(await ada.page.textContent('#room-online'), '2 online');

      // Socket.IO → page: typing, then a message (the reply is the stored message).
      bob.volatile.emit('typing');
      await typingLine(ada.page, 'Bob is typing…').waitFor({ timeout: WAIT_MS });
      const sent = (await bob.emitWithAck('sendMessage', { room, text: `Hello from Socket.IO (${transport})` })) as ChatMessage;
      assert.equal(sent.name, 'Bob');
      assert.equal(sent.room, room);
      await message(ada.page, 'Bob', `Hello from Socket.IO (${transport})`).waitFor({ timeout: WAIT_MS });

      // Page → Socket.IO: typing, then a message.
      await ada.page.locator('#message-input').pressSequentially('Hi Bob', { delay: 20 });
      await got.count('typing', 1);
      assert.deepEqual(got.of('typing')[0], { room, name: 'Ada' });
      await ada.page.press('#message-input', 'Enter');
      await got.count('message', 1);
      const fromAda = got.of('message')[0] as ChatMessage;
      assert.equal(fromAda.name, 'Ada');
      assert.equal(fromAda.text, 'Hi Bob');
      assert.equal(fromAda.room, room);
      // With the chat's recovery on, each event carries its offset as one more argument.
      assert.equal(typeof got.events.find((e) => e.event === 'message')?.args[1], 'string');

      // Another page comes and goes: the Socket.IO client is told both.
      const grace = await openChat(url, 'Grace', room);
      await got.count('joined', 1);
      assert.deepEqual(pick(got.of('joined')[0] as PresenceNotice), { room, name: 'Grace', online: 3 });
      await grace.page.close();
      await got.count('left', 1);
      assert.deepEqual(pick(got.of('left')[0] as PresenceNotice), { room, name: 'Grace', online: 2 });

      // The Socket.IO client leaves: the page sees it go.
      bob.disconnect();
      await notice(ada.page, 'Bob left · 1 online').waitFor({ timeout: WAIT_MS });
      assert.deepEqual(got.of('message').length, 1, 'nothing twice');
      noProblems(ada, grace);
    });
  }

  test('examples/chat/socketio-client.mjs: the terminal client and a page talk', async () => {
    const room = 'terminal';
    const ada = await openChat(url, 'Ada', room);
    const script = startScript(['Carol', room, url.slice(0, -1)]);
    try {
      await script.line(/^\* in terminal · 2 online \(as Carol, over (polling|websocket)\)$/);
      await notice(ada.page, 'Carol joined · 2 online').waitFor({ timeout: WAIT_MS });

      script.child.stdin?.write('typing a li');
      await typingLine(ada.page, 'Carol is typing…').waitFor({ timeout: WAIT_MS });
      script.child.stdin?.write('ne from the terminal\n');
      await message(ada.page, 'Carol', 'typing a line from the terminal').waitFor({ timeout: WAIT_MS });
      await script.line(/^\[\d\d:\d\d\] Carol: typing a line from the terminal$/);

      await ada.page.locator('#message-input').pressSequentially('Hello Carol', { delay: 20 });
      await script.line(/^\* Ada is typing…$/);
      await ada.page.press('#message-input', 'Enter');
      await script.line(/^\[\d\d:\d\d\] Ada: Hello Carol$/);

      // End of input: the script leaves the room and exits 0.
      script.child.stdin?.end();
      assert.equal(await script.exited, 0);
      await notice(ada.page, 'Carol left · 1 online').waitFor({ timeout: WAIT_MS });
      noProblems(ada);
    } finally {
      script.child.kill();
    }
  });
});

function pick(notice: PresenceNotice): Omit<PresenceNotice, 'time'> {
  return { room: notice.room, name: notice.name, online: notice.online };
}

/** The script, with its output read line by line. */
function startScript(args: string[]): { child: ChildProcess; line(pattern: RegExp): Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['examples/chat/socketio-client.mjs', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    async line(pattern) {
      try {
        await eventually(() => lines.some((l) => pattern.test(l)), `a line ${pattern} from the script`, WAIT_MS);
      } catch (err) {
        throw new Error(`${(err as Error).message}; it printed:\n${lines.join('\n')}\n${stderr}`);
      }
      return lines.find((l) => pattern.test(l)) as string;
    },
  };
}
