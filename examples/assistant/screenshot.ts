/**
 * Writes docs/assistant.png, the README's picture of the assistant: a server on a free port,
 * one question answered, a second answer caught mid-stream, and a 1000×640 screenshot.
 *
 *   npx tsx examples/assistant/screenshot.ts [output.png]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startAssistantServer } from './assistant-server.js';

const CHROMIUM = '/usr/bin/chromium';
const output = process.argv[2] ?? fileURLToPath(new URL('../../docs/assistant.png', import.meta.url));

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.exit(1);
}

const assistant = await startAssistantServer({ port: 0, host: '127.0.0.1' });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, deviceScaleFactor: 1, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${assistant.port}/#demo`);
  await page.locator('#connection-status[data-state="connected"]').waitFor();
  await page.fill('#question', 'How do token streams survive a reload?');
  await page.click('#ask');
  await page.locator('.message[data-role="assistant"][data-state="done"]').waitFor({ timeout: 60_000 });
  await page.fill('#question', 'And when the network drops?');
  await page.click('#ask');
  // Mid-answer: a few dozen words in, the cursor still blinking.
  await page.waitForFunction(() => {
    const streaming = document.querySelector('.message[data-role="assistant"][data-state="streaming"] .message-text');
    return (streaming?.textContent ?? '').length > 160;
  });
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await assistant.close({ deadline: 100 });
}
