/**
 * The assistant example (examples/assistant) in real headless Chromium: an answer streamed
 * by the fake generator, a reload mid-answer that continues from sessionStorage with the
 * exact final text, a network drop mid-answer that loses and repeats nothing, a second
 * tab that sees the same conversation, and Stop mid-answer, which ends it in both tabs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { answerFor } from '../../examples/assistant/answer-generator.js';
import { type AssistantServer, startAssistantServer } from '../../examples/assistant/assistant-server.js';
import type { TokenMessage } from '../../src/token-streams/client/index.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';

const browser = useBrowser();
/** Generous: CI runs this on two cores. */
const WAIT_MS = 20_000;

interface PageHooks {
  assistantPage: { messages(): TokenMessage[]; shown(id: string): string[]; state(): string };
}
declare const window: PageHooks;

let conversations = 0;
const freshConversation = (label: string): string => `${label}-${process.pid}-${++conversations}`;

async function openConversation(url: string, conversation: string): Promise<TestPage> {
  const opened = await browser.newPage();
  await opened.page.goto(`${url}#${conversation}`);
  await connected(opened.page);
  return opened;
}

async function connected(page: Page): Promise<void> {
  await page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
}

async function ask(page: Page, question: string): Promise<void> {
  await page.fill('#question', question);
  await page.click('#ask');
}

function messages(page: Page): Promise<TokenMessage[]> {
  return page.evaluate(() => window.assistantPage.messages());
}

/** The assistant's answer, once it has at least `chars` characters and is still streaming. */
async function answerStreaming(page: Page, chars: number): Promise<TokenMessage> {
  const handle = await page.waitForFunction(
    (n) => window.assistantPage.messages().find((m) => (m.meta as { role?: string })?.role === 'assistant' && !m.done && m.text.length >= n),
    chars,
    { timeout: WAIT_MS },
  );
  return (await handle.jsonValue()) as TokenMessage;
}

async function answerDone(page: Page): Promise<TokenMessage> {
  const handle = await page.waitForFunction(() => window.assistantPage.messages().find((m) => (m.meta as { role?: string })?.role === 'assistant' && (m.done || m.failed)), undefined, {
    timeout: WAIT_MS,
  });
  return (await handle.jsonValue()) as TokenMessage;
}

/** Every text the page showed for the message extends the one before: no word repeated, none taken back. */
async function assertGrewOnly(page: Page, id: string): Promise<string[]> {
  const texts = await page.evaluate((messageId) => window.assistantPage.shown(messageId), id);
  for (let i = 1; i < texts.length; i++) assert.ok(texts[i]?.startsWith(texts[i - 1] as string), `"${texts[i]}" does not continue "${texts[i - 1]}"`);
  return texts;
}

function noProblems(...pages: TestPage[]): void {
  for (const p of pages) {
    const problems = p.problems.filter((text) => !/WebSocket connection to '.*' failed|Failed to load resource: net::ERR_|net::ERR_INTERNET_DISCONNECTED/.test(text));
    assert.deepEqual(problems, [], 'no errors in the page');
  }
}

describe('assistant in the browser', () => {
  let assistant: AssistantServer;
  let url: string;

  before(async () => {
    // Pauses of 100 to 200 ms: an answer takes several seconds, room to reload in the middle.
    assistant = await startAssistantServer({ port: 0, host: '127.0.0.1', pace: 2 });
    url = `http://127.0.0.1:${assistant.port}/`;
  });
  after(() => assistant.close({ deadline: 100 }));

  test('reload mid-answer: the page shows what it had at once and goes on to the exact answer, nothing repeated; a second tab shows the same', async () => {
    const conversation = freshConversation('reload');
    const tab = await openConversation(url, conversation);
    const question = 'What happens when I reload the page?';
    await ask(tab.page, question);
    const before = await answerStreaming(tab.page, 40);
    const saved = await tab.page.evaluate((room) => JSON.parse(sessionStorage.getItem(`switchboard:token-streams:/:${room}`) ?? 'null'), `chat:${conversation}`);
    assert.ok(saved?.position && saved.messages.some((m: TokenMessage) => m.id === before.id), 'the reader keeps its place in sessionStorage');

    await tab.page.reload({ waitUntil: 'domcontentloaded' });
    // Restored from sessionStorage before the connection is even up.
    const restored = (await tab.page.waitForFunction((id) => window.assistantPage.shown(id)[0], before.id, { timeout: WAIT_MS }).then((h) => h.jsonValue())) as string;
    assert.ok(restored.startsWith(before.text), 'the restored text has everything shown before the reload');
    await connected(tab.page);
    const stillStreaming = await messages(tab.page);
    assert.equal(stillStreaming.find((m) => m.id === before.id)?.done, false, 'the reload came mid-answer');

    const done = await answerDone(tab.page);
    assert.equal(done.id, before.id);
    assert.equal(done.done, true);
    assert.equal(done.text, answerFor(question), 'exactly the generator’s answer');
    const texts = await assertGrewOnly(tab.page, done.id);
    assert.ok(texts.length > 2, `it went on growing after the reload (${texts.length} texts)`);
    assert.equal(texts[0], restored);
    assert.deepEqual(
      (await messages(tab.page)).map((m) => [(m.meta as { role: string }).role, m.text]),
      [
        ['user', question],
        ['assistant', answerFor(question)],
      ],
    );
    const shownText = await tab.page.locator(`#message-${done.id} .message-text`).innerText();
    assert.equal(shownText, answerFor(question));

    // A tab opened afterwards gets the conversation whole.
    const other = await openConversation(url, conversation);
    await other.page.locator(`#message-${done.id}[data-state="done"]`).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await messages(other.page), await messages(tab.page));
    noProblems(tab, other);
  });

  test('a network drop mid-answer: nothing lost, nothing repeated, in both tabs', async () => {
    const conversation = freshConversation('offline');
    const tab = await openConversation(url, conversation);
    const watcher = await openConversation(url, conversation);
    const question = 'Does a dropped network lose words?';
    await ask(tab.page, question);
    const before = await answerStreaming(tab.page, 20);

    await tab.context.setOffline(true);
    await tab.page.locator('#connection-status[data-state="offline"]').waitFor({ timeout: WAIT_MS });
    // While offline, the answer goes on: the other tab sees it grow by a good part.
    await answerStreaming(watcher.page, before.text.length + 60);
    const offlineText = (await messages(tab.page)).find((m) => m.id === before.id)?.text ?? '';
    await tab.context.setOffline(false);
    await connected(tab.page);

    for (const page of [tab.page, watcher.page]) {
      const done = await answerDone(page);
      assert.equal(done.text, answerFor(question));
      await assertGrewOnly(page, done.id);
    }
    assert.ok(offlineText.length < answerFor(question).length, 'the drop came mid-answer');
    noProblems(tab, watcher);
  });

  test('Stop mid-answer: the generator stops, the text stops growing in both tabs and shows as stopped, a prefix of the generator’s answer', async () => {
    const conversation = freshConversation('stop');
    const tab = await openConversation(url, conversation);
    const watcher = await openConversation(url, conversation);
    const question = 'Can I stop an answer halfway?';
    await ask(tab.page, question);
    const before = await answerStreaming(tab.page, 30);
    await tab.page.locator('#stop').click({ timeout: WAIT_MS });

    const stopped: TokenMessage[] = [];
    for (const page of [tab.page, watcher.page]) {
      await page.locator(`#message-${before.id}[data-state="stopped"]`).waitFor({ timeout: WAIT_MS });
      stopped.push((await messages(page)).find((m) => m.id === before.id) as TokenMessage);
      assert.equal(await page.locator(`#message-${before.id} .message-note`).innerText(), 'Stopped.');
      assert.equal(await page.locator('#stop').isHidden(), true, 'no answer streams: no Stop button');
    }
    const [mine, theirs] = stopped as [TokenMessage, TokenMessage];
    assert.deepEqual({ failed: mine.failed, done: mine.done, code: mine.error?.code }, { failed: true, done: false, code: 'cancelled' });
    assert.equal(theirs.text, mine.text, 'both tabs keep the same text');
    assert.ok(mine.text.startsWith(before.text), 'the text shown before Stop is kept');
    assert.ok(answerFor(question).startsWith(mine.text), 'a prefix of the generator’s answer');
    assert.ok(mine.text.length < answerFor(question).length, 'stopped before the end');
    assert.equal(assistant.worker.streaming, 0, 'the generator stopped');

    // Later in the room (a new question, published after the cancel): nothing more of the stopped answer.
    const next = 'And now a short one?';
    await ask(watcher.page, next);
    for (const page of [tab.page, watcher.page]) {
      await page.waitForFunction((text) => window.assistantPage.messages().some((m) => m.done && m.text === text), next, { timeout: WAIT_MS });
      assert.equal((await messages(page)).find((m) => m.id === before.id)?.text, mine.text, 'the stopped text did not grow');
      const texts = await assertGrewOnly(page, before.id);
      assert.equal(texts.at(-1), mine.text);
    }
    const history = await assistant.sb.history(`chat:${conversation}`);
    const ofAnswer = history.publications.filter((p) => (p.data as { id?: string }).id === before.id);
    assert.equal(ofAnswer.at(-1)?.event, 'token-stream:fail', 'the fail is the answer’s last publication');
    noProblems(tab, watcher);
  });
});
