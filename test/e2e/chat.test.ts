/**
 * The chat example in real headless Chromium: what a newcomer does with it (two tabs
 * talking, a third in another room), what a hostile name or message tries, and what
 * the network does to it (a server restart, a page going offline and coming back).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type ChatServer, startChatServer } from '../../examples/chat/chat-server.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';

const browser = useBrowser();
const XSS = '<img src=x onerror=alert(1)>';
/** Generous: CI runs this on two cores, and a reconnect waits out a random backoff. */
const WAIT_MS = 15_000;
/** After a server restart the backoff may have grown to several seconds. */
const RECONNECT_WAIT_MS = 45_000;

interface ChatPage extends TestPage {
  /** Alert/confirm/prompt dialogs the page opened: there must never be any. */
  dialogs: string[];
}

before(() => {
  // The page imports the SDK from /switchboard/client.js, which Switchboard serves from this build.
  // Built only when missing (`npm test` builds it first): other test files may be reading it right now.
  if (!existsSync('dist/browser/switchboard-client.js')) execFileSync(process.execPath, ['scripts/build-browser-client.mjs'], { stdio: 'inherit' });
});

/** Open the chat at `url` and sign in as `name`; waits until the room is shown. `init` runs in the page before its scripts. */
async function openChat(url: string, name: string, room = 'lobby', init?: () => void): Promise<ChatPage> {
  const opened = await browser.newPage();
  if (init) await opened.page.addInitScript(init);
  const dialogs: string[] = [];
  opened.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await opened.page.goto(room === 'lobby' ? url : `${url}#${encodeURIComponent(room)}`);
  await opened.page.fill('#name-input', name);
  await opened.page.click('#name-submit');
  await roomShown(opened.page, room);
  await statusIs(opened.page, 'connected');
  return { ...opened, dialogs };
}

async function roomShown(page: Page, room: string): Promise<void> {
  await page.locator('#room-name').filter({ hasText: new RegExp(`^${escape(room)}$`) }).waitFor({ timeout: WAIT_MS });
}

async function statusIs(page: Page, state: string, timeout = WAIT_MS): Promise<void> {
  await page.locator(`#connection-status[data-state="${state}"]`).waitFor({ timeout });
}

/** Type and send with Enter, as a person does. */
async function send(page: Page, text: string): Promise<void> {
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
}

/** A confirmed message (not pending) with exactly this text. */
function message(page: Page, text: string) {
  return page.locator('#log > [data-testid="message"]').filter({ has: page.locator('[data-testid="message-text"]', { hasText: new RegExp(`^${escape(text)}$`) }) });
}

function notice(page: Page, text: string | RegExp) {
  return page.locator('#log > [data-testid="notice"]', { hasText: text });
}

/** Poll `check` until it holds (like expect.poll): no fixed sleeps. */
async function until(check: () => Promise<boolean>, what: string, timeout = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The texts of the confirmed messages in the log, in order. */
function logTexts(page: Page): Promise<string[]> {
  return page.locator('#log > [data-testid="message"] [data-testid="message-text"]').allTextContents();
}

function noProblems(...pages: ChatPage[]): void {
  for (const p of pages) {
    // Chromium itself logs each refused attempt while a server is down — the WebSocket's and,
    // as the client falls back, its HTTP requests': that is the test, not a bug.
    const problems = p.problems.filter((text) => !/WebSocket connection to '.*' failed|Failed to load resource: net::ERR_CONNECTION_REFUSED/.test(text));
    assert.deepEqual(problems, [], 'no errors in the page');
    assert.deepEqual(p.dialogs, [], 'no dialogs');
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('chat in the browser', () => {
  let chat: ChatServer;
  let url: string;

  before(async () => {
    chat = await startChatServer({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${chat.port}/`;
  });
  after(() => chat.close());

  test('two pages in one room see each other’s messages, notices and typing; a page in another room sees none of it', async () => {
    const ada = await openChat(url, 'Ada', 'talk');
    const outsider = await openChat(url, 'Outsider', 'elsewhere');
    const grace = await openChat(url, 'Grace', 'talk');

    await notice(ada.page, 'Grace joined · 2 online').waitFor();
    assert.equal(await ada.page.textContent('#room-online'), '2 online');
    await ada.page.locator('[data-room="talk"] [data-testid="room-count"]', { hasText: /^2$/ }).waitFor();
    await outsider.page.locator('[data-room="talk"] [data-testid="room-count"]', { hasText: /^2$/ }).waitFor();

    await send(ada.page, 'Hello Grace');
    await message(grace.page, 'Hello Grace').waitFor();
    assert.equal(await message(grace.page, 'Hello Grace').locator('[data-testid="message-name"]').textContent(), 'Ada');
    assert.match((await message(grace.page, 'Hello Grace').locator('time').getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    await message(ada.page, 'Hello Grace').waitFor();
    assert.equal(await ada.page.locator('#log > .pending').count(), 0, 'confirmed by the server');
    assert.equal(await ada.page.inputValue('#message-input'), '');

    // Typing shows on the other page and goes when the message arrives.
    await grace.page.locator('#message-input').pressSequentially('Hi Ada', { delay: 30 });
    await ada.page.locator('#typing', { hasText: 'Grace is typing…' }).waitFor();
    await grace.page.press('#message-input', 'Enter');
    await message(ada.page, 'Hi Ada').waitFor();
    assert.equal(await ada.page.textContent('#typing'), '', 'cleared by the message itself');

    // Typing that is not followed by a message clears by itself after ~3 s.
    await grace.page.locator('#message-input').pressSequentially('hmm', { delay: 30 });
    await ada.page.locator('#typing', { hasText: 'Grace is typing…' }).waitFor();
    await until(async () => (await ada.page.textContent('#typing')) === '', 'the typing line to clear itself');
    assert.equal(await grace.page.textContent('#typing'), '', 'nobody sees their own typing');

    // The page in the other room saw nothing of it.
    await send(outsider.page, 'anyone here?');
    await message(outsider.page, 'anyone here?').waitFor();
    assert.deepEqual(await logTexts(outsider.page), ['anyone here?']);
    assert.equal(await notice(outsider.page, /Grace|Ada/).count(), 0);
    assert.equal(await outsider.page.textContent('#typing'), '');
    assert.deepEqual(await logTexts(ada.page), ['Hello Grace', 'Hi Ada']);

    await grace.page.close();
    await notice(ada.page, 'Grace left · 1 online').waitFor();
    assert.equal(await ada.page.textContent('#room-online'), '1 online');
    noProblems(ada, grace, outsider);
  });

  test('a newcomer gets the room’s recent messages, and can create and switch rooms', async () => {
    const ada = await openChat(url, 'Ada', 'history');
    await send(ada.page, 'first');
    await send(ada.page, 'second');
    await message(ada.page, 'second').waitFor();

    const grace = await openChat(url, 'Grace', 'history');
    await message(grace.page, 'second').waitFor();
    assert.deepEqual(await logTexts(grace.page), ['first', 'second']);

    await grace.page.fill('#room-input', 'Night Owls');
    await grace.page.click('#room-submit');
    await roomShown(grace.page, 'Night Owls');
    assert.deepEqual(await logTexts(grace.page), [], 'a new room starts empty');
    assert.equal(new URL(grace.page.url()).hash, '#Night%20Owls');
    await ada.page.locator('[data-room="Night Owls"] [data-testid="room-count"]', { hasText: /^1$/ }).waitFor();
    await notice(ada.page, 'Grace left · 1 online').waitFor();

    await grace.page.fill('#room-input', 'no/slashes');
    await grace.page.click('#room-submit');
    await grace.page.locator('#room-error', { hasText: 'letters, digits, spaces, - and _' }).waitFor();
    await roomShown(grace.page, 'Night Owls');

    await grace.page.locator('[data-room="history"] button').click();
    await roomShown(grace.page, 'history');
    assert.deepEqual(await logTexts(grace.page), ['first', 'second']);
    noProblems(ada, grace);
  });

  test('a room fades from every sidebar once its last member leaves; the lobby stays', async () => {
    const ada = await openChat(url, 'Ada');
    const grace = await openChat(url, 'Grace', 'Short Lived');
    await send(grace.page, 'brief visit');
    await message(grace.page, 'brief visit').waitFor();
    const entry = (page: Page, room: string) => page.locator(`#room-list [data-room="${room}"]`);
    await entry(ada.page, 'Short Lived').locator('[data-testid="room-count"]', { hasText: /^1$/ }).waitFor();

    await grace.page.locator('[data-room="lobby"] button').click();
    await roomShown(grace.page, 'lobby');
    await entry(ada.page, 'Short Lived').waitFor({ state: 'detached' });
    await entry(grace.page, 'Short Lived').waitFor({ state: 'detached' });
    await entry(ada.page, 'lobby').locator('[data-testid="room-count"]', { hasText: /^2$/ }).waitFor();

    await grace.page.close();
    await ada.page.locator('[data-room="lobby"] [data-testid="room-count"]', { hasText: /^1$/ }).waitFor();
    await ada.page.fill('#room-input', 'Elsewhere');
    await ada.page.click('#room-submit');
    await roomShown(ada.page, 'Elsewhere');
    await entry(ada.page, 'lobby').locator('[data-testid="room-count"]', { hasText: /^0$/ }).waitFor();
    noProblems(ada, grace);
  });

  test('the name form shows the server’s reason for refusing a name', async () => {
    const { page, problems } = await browser.newPage();
    await page.goto(url);
    await page.click('#name-submit');
    await page.locator('#name-error', { hasText: 'Please choose a display name.' }).waitFor();
    await page.fill('#name-input', 'x'.repeat(40));
    await page.click('#name-submit');
    await page.locator('#name-error', { hasText: 'Names are at most 32 characters.' }).waitFor();
    assert.equal(await page.isVisible('#chat'), false);
    assert.equal(await page.isEnabled('#name-submit'), true, 'the form can be sent again');
    await page.fill('#name-input', 'Ada');
    await page.click('#name-submit');
    await roomShown(page, 'lobby');
    assert.equal(await page.textContent('#me-name'), 'Ada');
    assert.deepEqual(problems, []);
  });

  test('a name and a message made of markup render as text and run nothing', async () => {
    const ada = await openChat(url, 'Ada', 'xss');
    const mallory = await openChat(url, XSS, 'xss');
    await notice(ada.page, `${XSS} joined · 2 online`).waitFor();

    await mallory.page.locator('#message-input').pressSequentially('x', { delay: 10 });
    await ada.page.locator('#typing', { hasText: `${XSS} is typing…` }).waitFor();
    await send(mallory.page, `look: ${XSS}`);
    await message(ada.page, `look: ${XSS}`).waitFor();
    assert.equal(await message(ada.page, `look: ${XSS}`).locator('[data-testid="message-name"]').textContent(), XSS);
    await message(mallory.page, `look: ${XSS}`).waitFor();
    assert.equal(await mallory.page.textContent('#me-name'), XSS);

    for (const p of [ada, mallory]) {
      assert.equal(await p.page.locator('#log img, #typing img, #room-list img, #me img').count(), 0, 'no element was made from user text');
    }
    noProblems(ada, mallory);
  });

  test('the 1,000-character limit is counted on the page and enforced by the server, whose reason is shown', async () => {
    const ada = await openChat(url, 'Ada', 'limits');
    const long = 'y'.repeat(1005);
    await ada.page.fill('#message-input', long);
    assert.equal(await ada.page.textContent('#char-count'), '1005 / 1000');
    assert.equal(await ada.page.locator('#char-count.over').count(), 1);
    await ada.page.press('#message-input', 'Enter');
    await ada.page.locator('#composer-error', { hasText: 'Messages are at most 1000 characters; this one has 1005.' }).waitFor();
    assert.equal(await ada.page.inputValue('#message-input'), long, 'the text comes back to be shortened');
    assert.equal(await ada.page.locator('#log > .msg').count(), 0);

    await ada.page.fill('#message-input', 'z'.repeat(1000));
    assert.equal(await ada.page.locator('#char-count.over').count(), 0);
    await ada.page.press('#message-input', 'Enter');
    await message(ada.page, 'z'.repeat(1000)).waitFor();
    assert.equal(await ada.page.textContent('#composer-error'), '');
    noProblems(ada);
  });

  test('a page that goes offline says so, keeps what is typed as pending, and delivers it in order when back', async () => {
    const ada = await openChat(url, 'Ada', 'offline-test');
    const grace = await openChat(url, 'Grace', 'offline-test');
    await send(grace.page, 'before going offline');
    await message(ada.page, 'before going offline').waitFor();

    await grace.context.setOffline(true);
    await statusIs(grace.page, 'offline');
    assert.equal(await grace.page.textContent('#connection-text'), 'offline');

    await send(ada.page, 'said while Grace was away');
    await send(grace.page, 'offline one');
    await send(grace.page, 'offline two');
    const pending = grace.page.locator('#log > [data-testid="message-pending"]');
    await until(async () => (await pending.count()) === 2, 'two pending messages');
    assert.deepEqual(await pending.locator('[data-testid="message-text"]').allTextContents(), ['offline one', 'offline two']);
    assert.equal(await pending.first().locator('.when-offline').isVisible(), true, 'marked as waiting for the connection');

    await grace.context.setOffline(false);
    await statusIs(grace.page, 'connected', RECONNECT_WAIT_MS);
    await message(ada.page, 'offline two').waitFor({ timeout: RECONNECT_WAIT_MS });
    assert.deepEqual(await logTexts(ada.page), ['before going offline', 'said while Grace was away', 'offline one', 'offline two']);
    await until(async () => (await pending.count()) === 0, 'the pending messages to be confirmed');
    // Grace's session was resumed: to Ada she never left (presence holds through the
    // resume window), and she did not join twice.
    assert.equal(await notice(ada.page, 'Grace left').count(), 0);
    assert.equal(await notice(ada.page, 'Grace joined').count(), 1);
    await notice(grace.page, 'Reconnected').waitFor();

    // The history refresh after the reconnect brought what was said meanwhile, and nothing twice.
    await message(grace.page, 'said while Grace was away').waitFor();
    assert.deepEqual((await logTexts(grace.page)).sort(), ['before going offline', 'offline one', 'offline two', 'said while Grace was away'].sort());
    assert.equal(await message(grace.page, 'before going offline').count(), 1);
    noProblems(ada, grace);
  });

  test('at phone width (375 px) everything fits and works', async () => {
    const ada = await openChat(url, 'Ada', 'phone');
    await ada.page.setViewportSize({ width: 375, height: 740 });
    await send(ada.page, 'sent from a phone, with a long line that has to wrap instead of widening the page');
    await message(ada.page, 'sent from a phone, with a long line that has to wrap instead of widening the page').waitFor();
    const width = await ada.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `no horizontal scrolling (page is ${width} px wide)`);
    for (const selector of ['#connection-status', '#room-list', '#room-input', '#message-input', '#send', '#log']) {
      const box = await ada.page.locator(selector).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375 && box.y + box.height <= 740, `${selector} is on screen: ${JSON.stringify(box)}`);
    }
    noProblems(ada);
  });
});

describe('chat across a server restart', () => {
  let port: number;
  let server: ChildProcess | undefined;

  before(async () => {
    port = await freePort();
    server = await startServerProcess(port);
  });
  after(async () => {
    if (server) await stopServerProcess(server);
  });

  test('both pages reconnect on their own, rejoin the room, deliver what was typed meanwhile and chat again', { timeout: 120_000 }, async () => {
    const url = `http://127.0.0.1:${port}/`;
    const ada = await openChat(url, 'Ada', 'restart');
    const grace = await openChat(url, 'Grace', 'restart');
    await send(ada.page, 'before the restart');
    await message(grace.page, 'before the restart').waitFor();

    await stopServerProcess(server as ChildProcess, 'SIGKILL');
    server = undefined;
    for (const p of [ada, grace]) {
      await statusIs(p.page, 'reconnecting');
      assert.match((await p.page.textContent('#connection-text')) ?? '', /^reconnecting( in \d+ s|…)$/);
    }
    await send(grace.page, 'typed while the server was down');
    await grace.page.locator('#log > [data-testid="message-pending"]').waitFor();

    server = await startServerProcess(port);
    await statusIs(ada.page, 'connected', RECONNECT_WAIT_MS);
    await statusIs(grace.page, 'connected', RECONNECT_WAIT_MS);
    await message(ada.page, 'typed while the server was down').waitFor({ timeout: WAIT_MS });
    await notice(ada.page, /^Reconnected · \d online$/).waitFor();

    await send(ada.page, 'after the restart');
    await message(grace.page, 'after the restart').waitFor();
    await send(grace.page, 'still here');
    await message(ada.page, 'still here').waitFor();
    for (const p of [ada, grace]) {
      assert.deepEqual(await logTexts(p.page), ['before the restart', 'typed while the server was down', 'after the restart', 'still here']);
      assert.equal(await p.page.textContent('#room-online'), '2 online');
    }
    noProblems(ada, grace);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `npm start`'s entry on a fixed port, as its own process; resolves when it prints its URL. */
async function startServerProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the chat server did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk;
      if (output.includes(`localhost:${port}/`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the chat server exited with ${code}: ${output}`));
    });
  });
  return child;
}

async function stopServerProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A page behind a proxy or middlebox that blocks WebSocket: the browser has none at all. */
function withoutWebSocket(): void {
  delete (window as { WebSocket?: unknown }).WebSocket;
}

describe('chat in a browser without WebSocket', () => {
  let chat: ChatServer;
  let url: string;
  /** The transport of every socket the server accepted, as it was at the connection. */
  const transports: string[] = [];

  before(async () => {
    chat = await startChatServer({ port: 0, host: '127.0.0.1' });
    chat.sb.on('connection', (socket) => transports.push(socket.transport ?? 'none'));
    url = `http://127.0.0.1:${chat.port}/`;
  });
  after(() => chat.close());

  test('two pages fall back to HTTP and chat end to end: messages both ways, typing, join notices, history', async () => {
    const ada = await openChat(url, 'Ada', 'fallback', withoutWebSocket);
    assert.equal(await ada.page.evaluate(() => typeof (window as { WebSocket?: unknown }).WebSocket), 'undefined');
    await send(ada.page, 'sent before Grace came');
    await message(ada.page, 'sent before Grace came').waitFor();

    const grace = await openChat(url, 'Grace', 'fallback', withoutWebSocket);
    await message(grace.page, 'sent before Grace came').waitFor(); // history
    await notice(ada.page, 'Grace joined · 2 online').waitFor();

    await send(ada.page, 'Hello over HTTP');
    await message(grace.page, 'Hello over HTTP').waitFor();
    await grace.page.locator('#message-input').pressSequentially('Hi Ada', { delay: 30 });
    await ada.page.locator('#typing', { hasText: 'Grace is typing…' }).waitFor();
    await grace.page.press('#message-input', 'Enter');
    await message(ada.page, 'Hi Ada').waitFor();
    for (const text of ['one', 'two', 'three']) await send(ada.page, text);
    const expected = ['sent before Grace came', 'Hello over HTTP', 'Hi Ada', 'one', 'two', 'three'];
    await until(async () => (await logTexts(grace.page)).length === expected.length, 'every message on the other page');
    assert.deepEqual(await logTexts(grace.page), expected, 'once each, in order');
    assert.deepEqual(await logTexts(ada.page), expected);
    assert.ok(transports.length >= 2, 'both pages connected');
    for (const transport of transports) assert.ok(transport === 'sse' || transport === 'polling', `an HTTP transport, got ${transport}`);
    noProblems(ada, grace);
  });
});
