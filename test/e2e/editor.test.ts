/**
 * The collaborative editor example (examples/editor) in real headless Chromium: people
 * typing at the same spot in two and three pages, remote cursors with names, a page that
 * goes offline and edits, a late joiner, a server restart (documents on files), and two
 * server processes on Redis serving one document.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type EditorServer, startEditorServer } from '../../examples/editor/editor-server.js';
import { type TestPage, useBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/cluster-processes.js';
import { connectRedis, dropKeys, REDIS_URL, testPrefix } from '../helpers/redis.js';

const browser = useBrowser();
/** Generous: CI runs this on two cores. */
const WAIT_MS = 15_000;
/** After a server restart the client's backoff may have grown to its 5 s cap. */
const RECONNECT_WAIT_MS = 30_000;

let documentCount = 0;
/** A document of the test's own: `#<fragment>` of the page's URL. */
function freshDocument(label: string): string {
  return `${label}-${process.pid}-${++documentCount}`;
}

/** Open the editor on `document` and pick `name`; waits until the document is synced. */
async function openEditor(url: string, document: string, name: string): Promise<TestPage> {
  const opened = await browser.newPage();
  await opened.page.goto(`${url}#${encodeURIComponent(document)}`);
  await opened.page.fill('#name-input', name);
  await opened.page.click('#name-submit');
  await statusIs(opened.page, 'connected');
  await opened.page.locator('.cm-content').waitFor();
  return opened;
}

async function statusIs(page: Page, state: string, timeout = WAIT_MS): Promise<void> {
  await page.locator(`#connection-status[data-state="${state}"]`).waitFor({ timeout });
}

/** The text CodeMirror shows. */
function textOf(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { editorSession: { text(): string } }).editorSession.text());
}

/** Type at the end of the document (or at its start), as a person does. */
async function typeAt(page: Page, where: 'start' | 'end', text: string): Promise<void> {
  await page.focus('.cm-content');
  await page.keyboard.press(where === 'start' ? 'Control+Home' : 'Control+End');
  await page.keyboard.type(text);
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

/** Every page shows the same text; returns it. */
async function sameText(pages: TestPage[], what: string, timeout = WAIT_MS): Promise<string> {
  let texts: string[] = [];
  await until(
    async () => {
      texts = await Promise.all(pages.map((p) => textOf(p.page)));
      return texts.every((text) => text === texts[0]);
    },
    `${what} (texts: ${JSON.stringify(texts)})`,
    timeout,
  );
  return texts[0] ?? '';
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

const sortedChars = (text: string): string => [...text].sort().join('');

/** The remote caret labelled `name`. */
function caret(page: Page, name: string) {
  return page.locator('.cm-ySelectionInfo', { hasText: new RegExp(`^${name}$`) });
}

function people(page: Page): Promise<string[]> {
  return page.locator('#people [data-testid="person-name"]').allTextContents();
}

function noProblems(...pages: TestPage[]): void {
  for (const p of pages) {
    // Chromium logs each refused attempt while a server is down or the page offline: that is the test.
    const problems = p.problems.filter((text) => !/WebSocket connection to '.*' failed|Failed to load resource: net::ERR_|net::ERR_INTERNET_DISCONNECTED/.test(text));
    assert.deepEqual(problems, [], 'no errors in the page');
  }
}

describe('editor in the browser', () => {
  let editor: EditorServer;
  let url: string;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-editor-e2e-'));
    editor = await startEditorServer({ port: 0, host: '127.0.0.1', dataDir });
    url = `http://127.0.0.1:${editor.port}/`;
  });
  after(async () => {
    await editor.close({ deadline: 100 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('two pages: typing at the same spot at once converges; each sees the other’s cursor move, named, and the list of people; it goes when the page leaves', async () => {
    const document = freshDocument('two');
    const ada = await openEditor(url, document, 'Ada');
    const bob = await openEditor(url, document, 'Bob');
    await typeAt(ada.page, 'end', 'line one\nline two\nline three');
    await sameText([ada, bob], 'bob to get ada’s lines');

    const adaTyped = 'Ada was here. ';
    const bobTyped = 'Bob was here too. ';
    await Promise.all([typeAt(ada.page, 'start', adaTyped), typeAt(bob.page, 'start', bobTyped)]);
    const text = await sameText([ada, bob], 'both pages to converge');
    assert.equal(text.length, 'line one\nline two\nline three'.length + adaTyped.length + bobTyped.length);
    assert.equal(sortedChars(text), sortedChars(`line one\nline two\nline three${adaTyped}${bobTyped}`), 'every character typed, once');
    assert.ok(text.endsWith('line one\nline two\nline three'));

    // Names on the carets, in the person's colour, and in the list.
    await caret(ada.page, 'Bob').waitFor({ timeout: WAIT_MS });
    await caret(bob.page, 'Ada').waitFor({ timeout: WAIT_MS });
    await until(async () => (await people(ada.page)).join() === 'Ada,Bob' && (await people(bob.page)).join() === 'Bob,Ada', 'both in both lists, you first');
    const colour = await caret(ada.page, 'Bob').evaluate((el) => getComputedStyle(el).backgroundColor);
    const listed = await bob.page.locator('#me-name').evaluate((el) => getComputedStyle(el).color);
    assert.equal(colour, listed, 'bob’s caret at ada has the colour bob’s page gives him');

    // Bob's caret moves: ada sees it on the line bob goes to.
    const bobsLine = (): Promise<string> => ada.page.locator('.cm-line', { has: caret(ada.page, 'Bob') }).innerText();
    await bob.page.keyboard.press('Control+End');
    await until(async () => (await bobsLine()).includes('line three'), 'bob’s caret on line three at ada');
    await bob.page.keyboard.press('ArrowUp');
    await until(async () => (await bobsLine()).includes('line two'), 'bob’s caret on line two at ada');

    await bob.page.close();
    await until(async () => (await caret(ada.page, 'Bob').count()) === 0, 'bob’s caret to go');
    await until(async () => (await people(ada.page)).join() === 'Ada', 'bob to leave the list');
    noProblems(ada);
  });

  test('three pages typing at one spot converge everywhere; a page that joins late gets the whole document', async () => {
    const document = freshDocument('three');
    const pages = await Promise.all(['Ada', 'Bob', 'Cy'].map((name) => openEditor(url, document, name)));
    const typed = ['ada ada ada. ', 'bob bob bob. ', 'cy cy cy. '];
    await Promise.all(pages.map((p, i) => typeAt(p.page, 'start', typed[i] ?? '')));
    const text = await sameText(pages, 'three pages to converge');
    assert.equal(sortedChars(text), sortedChars(typed.join('')));
    for (const p of pages) await until(async () => (await people(p.page)).length === 3, 'three people in every list');

    await typeAt(pages[0]!.page, 'end', '\nand a last line');
    const whole = await sameText(pages, 'the last line everywhere');
    const late = await openEditor(url, document, 'Late');
    assert.equal(await textOf(late.page), whole, 'the whole document at once');
    await until(async () => (await people(late.page)).length === 4, 'the late joiner to see everyone');
    noProblems(...pages, late);
  });

  test('a page offline keeps editing; back online its edits merge with those made meanwhile: nothing lost, nothing doubled', async () => {
    const document = freshDocument('offline');
    const ada = await openEditor(url, document, 'Ada');
    const bob = await openEditor(url, document, 'Bob');
    await typeAt(ada.page, 'end', 'shared start\n');
    await sameText([ada, bob], 'the start');

    await bob.context.setOffline(true);
    await statusIs(bob.page, 'offline');
    await typeAt(bob.page, 'end', 'bob typed offline\n');
    await typeAt(ada.page, 'start', 'ada typed meanwhile\n');
    await until(async () => (await textOf(ada.page)).startsWith('ada typed meanwhile'), 'ada’s edit');
    assert.equal((await textOf(bob.page)).includes('ada typed meanwhile'), false, 'bob is really offline');

    await bob.context.setOffline(false);
    await statusIs(bob.page, 'connected', RECONNECT_WAIT_MS);
    const text = await sameText([ada, bob], 'the offline edits to merge');
    assert.equal(count(text, 'bob typed offline\n'), 1);
    assert.equal(count(text, 'ada typed meanwhile\n'), 1);
    assert.equal(count(text, 'shared start\n'), 1);
    assert.equal(text.length, 'shared start\nbob typed offline\nada typed meanwhile\n'.length);
    noProblems(ada, bob);
  });

  test('after a server restart the document is still there, and the pages carry on', async () => {
    const document = freshDocument('restart');
    const ada = await openEditor(url, document, 'Ada');
    await typeAt(ada.page, 'end', 'written before the restart\n');
    // Written to the file store before the server goes: a second page has it from the server.
    const fence = await openEditor(url, document, 'Fence');
    assert.equal(await textOf(fence.page), 'written before the restart\n');
    await fence.page.close();

    const port = editor.port;
    await editor.close({ deadline: 100 });
    await until(async () => (await ada.page.locator('#connection-status').getAttribute('data-state')) !== 'connected', 'ada to see the server go');
    await typeAt(ada.page, 'end', 'typed while the server was down\n');
    editor = await startEditorServer({ port, host: '127.0.0.1', dataDir });

    await statusIs(ada.page, 'connected', RECONNECT_WAIT_MS);
    const bob = await openEditor(url, document, 'Bob');
    const text = await sameText([ada, bob], 'bob to get the document after the restart');
    assert.equal(text, 'written before the restart\ntyped while the server was down\n');
    noProblems(ada, bob);
  });
});

describe('editor on two server processes sharing Redis', () => {
  const prefix = testPrefix('editor');
  const servers: ChildProcess[] = [];
  const urls: string[] = [];

  before(async () => {
    const redis = await connectRedis();
    redis.disconnect();
    for (const name of ['one', 'two']) {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', 'examples/editor/server.ts'], {
        env: { ...process.env, PORT: String(port), REDIS_URL, REDIS_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      servers.push(child);
      let output = '';
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`editor server ${name} did not start: ${output}`)), 30_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Switchboard editor:')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`editor server ${name} exited (${code}): ${output}`)));
      });
      urls.push(`http://127.0.0.1:${port}/`);
    }
  });
  after(async () => {
    await Promise.all(
      servers.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    const redis = await connectRedis();
    await dropKeys(redis, prefix);
    redis.disconnect();
  });

  test('pages on each process edit one document, see each other’s cursors, and a late joiner on either gets it all', async () => {
    const document = freshDocument('cluster');
    const [one, two] = urls as [string, string];
    const ada = await openEditor(one, document, 'Ada');
    const bob = await openEditor(two, document, 'Bob');
    await Promise.all([typeAt(ada.page, 'start', 'ada on process one. '), typeAt(bob.page, 'start', 'bob on process two. ')]);
    const text = await sameText([ada, bob], 'the two processes’ pages to converge');
    assert.equal(sortedChars(text), sortedChars('ada on process one. bob on process two. '));
    await caret(ada.page, 'Bob').waitFor({ timeout: WAIT_MS });
    await caret(bob.page, 'Ada').waitFor({ timeout: WAIT_MS });

    const late = await openEditor(two, document, 'Late');
    assert.equal(await textOf(late.page), text);
    const lateOnOne = await openEditor(one, document, 'Later');
    assert.equal(await textOf(lateOnOne.page), text);
    noProblems(ada, bob, late, lateOnOne);
  });
});
