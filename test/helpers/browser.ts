/**
 * Real headless Chromium for browser tests, driven by playwright-core: the Debian package's
 * binary, no browser download. A missing browser fails the tests loudly; they never skip.
 *
 *   const browser = useBrowser();             // one browser for the file
 *   test('...', async () => {
 *     const { page, context } = await browser.newPage();   // a fresh context per test
 *     ...                                                   // closed after the test
 *   });
 */
import { existsSync } from 'node:fs';
import { after, afterEach, before } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_BINARY ?? '/usr/bin/chromium';

/** Launch headless Chromium. Throws, with the command that fixes it, when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`browser tests need Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (npm test does, as root)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and console.error output of the page, to show when a test fails. */
  problems: string[];
}

/** One browser per test file and a fresh context per test, all closed by node:test hooks. */
export class BrowserSession {
  private browser: Browser | undefined;
  private readonly contexts = new Set<BrowserContext>();

  async launch(): Promise<void> {
    this.browser ??= await launchChromium();
  }

  /** A page in a new context (its own cookies, storage and network emulation), closed after the test. */
  async newPage(): Promise<TestPage> {
    if (!this.browser) throw new Error('the browser is not launched: call useBrowser() at the top of the test file');
    const context = await this.browser.newContext();
    this.contexts.add(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
    });
    return { context, page, problems };
  }

  async closeContexts(): Promise<void> {
    const open = [...this.contexts];
    this.contexts.clear();
    await Promise.all(open.map((context) => context.close()));
  }

  async close(): Promise<void> {
    await this.closeContexts();
    await this.browser?.close();
    this.browser = undefined;
  }
}

/** Register the hooks: launch before the first test, close contexts after each, the browser after all. */
export function useBrowser(): BrowserSession {
  const session = new BrowserSession();
  before(() => session.launch());
  afterEach(() => session.closeContexts());
  after(() => session.close());
  return session;
}
