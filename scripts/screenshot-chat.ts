/**
 * Writes docs/chat.png, the README's picture of the chat: a chat server on a free port,
 * two browser pages (Ada and Grace) and a few SDK clients in other rooms, a short
 * conversation, Grace typing, and a 1200×800 screenshot of Ada's page.
 *
 *   npx tsx scripts/screenshot-chat.ts [output.png]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startChatServer } from '../examples/chat/chat-server.js';
import { connect } from '../src/client/node.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const output = process.argv[2] ?? fileURLToPath(new URL('../docs/chat.png', import.meta.url));

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.exit(1);
}
execFileSync(process.execPath, ['scripts/build-browser-client.mjs'], { cwd: root, stdio: 'inherit' });

const chat = await startChatServer({ port: 0, host: '127.0.0.1' });
const ws = `ws://127.0.0.1:${chat.port}/ws`;
const url = `http://127.0.0.1:${chat.port}/`;
const bots: ReturnType<typeof connect>[] = [];
let browser: Browser | undefined;

/** An SDK client sitting in a room, so the room list has some life in it. */
async function bot(name: string, room: string): Promise<ReturnType<typeof connect>> {
  const client = connect(ws, { auth: { name } });
  bots.push(client);
  await client.emitWithAck('joinRoom', { room });
  return client;
}

async function openPage(name: string): Promise<Page> {
  const context = await (browser as Browser).newContext({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  await page.goto(url);
  await page.fill('#name-input', name);
  await page.click('#name-submit');
  await page.locator('#room-name').filter({ hasText: 'lobby' }).waitFor();
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
  await page.locator('.msg:not(.pending) .msg-text', { hasText: text }).waitFor();
}

try {
  await bot('Linus', 'ops');
  await bot('Ken', 'ops');
  await bot('Barbara', 'design');
  const margaret = await bot('Margaret', 'lobby');
  const katherine = await bot('Katherine', 'lobby');
  await margaret.emitWithAck('sendMessage', { room: 'lobby', text: 'Morning! Is the release still on for today?' });
  await katherine.emitWithAck('sendMessage', { room: 'lobby', text: 'As far as I know. Ada was finishing the reconnect work last night.' });
  await margaret.emitWithAck('sendMessage', { room: 'lobby', text: 'Great, I will start on the release notes.' });

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const ada = await openPage('Ada');
  const grace = await openPage('Grace');

  await say(ada, 'It is. I just pushed the new reconnect logic.');
  await say(grace, 'Nice. I closed my laptop lid for ten minutes and came back to a live chat.');
  await say(ada, 'That is the SDK: full-jitter backoff, then it rejoins the room and catches up on history.');
  await say(grace, 'And what I typed on the train went out in order once I was back online.');
  await ada.locator('.msg-text', { hasText: 'on the train' }).waitFor();

  // Grace starts a new message: Ada sees her typing.
  await grace.locator('#message-input').pressSequentially('Shipping it', { delay: 20 });
  await ada.locator('#typing', { hasText: 'Grace is typing' }).waitFor();
  await ada.fill('#message-input', 'Ship it!');
  await ada.locator('[data-testid="room"][data-room="ops"] [data-testid="room-count"]', { hasText: '2' }).waitFor();

  await ada.mouse.move(0, 0); // no hover highlight in the picture
  await ada.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser?.close();
  for (const client of bots) client.close();
  await chat.close();
}
