/**
 * Writes docs/editor.png, the README's picture of the editor: an editor server on a free port
 * (documents in a temporary folder), three people (Ada, Grace, Linus) in one document, each
 * with a cursor or a selection somewhere else, and a 1200×760 screenshot of Ada's page.
 *
 *   npx tsx examples/editor/screenshot.ts [output.png]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startEditorServer } from './editor-server.js';

const CHROMIUM = '/usr/bin/chromium';
const output = process.argv[2] ?? fileURLToPath(new URL('../../docs/editor.png', import.meta.url));

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.exit(1);
}

const dataDir = mkdtempSync(join(tmpdir(), 'sb-editor-shot-'));
const editor = await startEditorServer({ port: 0, host: '127.0.0.1', dataDir });
const url = `http://127.0.0.1:${editor.port}/#release-notes`;
let browser: Browser | undefined;

const NOTES = `# Release notes — 0.2

## Collaborative editing
- switchboard/yjs: a DocumentHost keeps Yjs documents on the server,
  in memory, in files, in SQLite or in Redis.
- switchboard/yjs/client: a DocumentProvider syncs a Y.Doc and its
  awareness over the client you already have.
- Edits made offline merge when you are back: nothing lost, nothing doubled.

## Transports
- Binary WebSocket messages for binary data.
- Long-polling and SSE carry documents too.

## Thanks
`;

async function openPage(name: string): Promise<Page> {
  const context = await (browser as Browser).newContext({ viewport: { width: 1200, height: 760 }, deviceScaleFactor: 1, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(url);
  await page.fill('#name-input', name);
  await page.click('#name-submit');
  await page.locator('#connection-status[data-state="connected"]').waitFor();
  await page.focus('.cm-content');
  return page;
}

/** Put the cursor at the end of the line holding `text` (and select `select` characters back). */
async function cursorAfter(page: Page, text: string, select = 0): Promise<void> {
  await page.locator('.cm-line', { hasText: text }).first().click();
  await page.keyboard.press('End');
  for (let i = 0; i < select; i++) await page.keyboard.press('Shift+ArrowLeft');
}

try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const ada = await openPage('Ada');
  await ada.keyboard.insertText(NOTES);
  const grace = await openPage('Grace');
  const linus = await openPage('Linus');
  await grace.locator('.cm-line', { hasText: 'Thanks' }).waitFor();
  await linus.locator('.cm-line', { hasText: 'Thanks' }).waitFor();

  await cursorAfter(grace, 'Long-polling and SSE');
  await grace.keyboard.type(' (and the upgrade back to WebSocket).');
  await cursorAfter(linus, 'nothing lost, nothing doubled', 'nothing lost, nothing doubled.'.length);
  await cursorAfter(ada, '## Thanks');
  await ada.keyboard.press('Enter');
  await ada.keyboard.type('To everyone who tried it on a train');

  await ada.locator('.cm-ySelectionInfo', { hasText: 'Grace' }).waitFor();
  await ada.locator('.cm-ySelectionInfo', { hasText: 'Linus' }).waitFor();
  await ada.locator('#people [data-testid="person"]').nth(2).waitFor();
  await ada.mouse.move(0, 0);
  await ada.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser?.close();
  await editor.close({ deadline: 100 });
  rmSync(dataDir, { recursive: true, force: true });
}
