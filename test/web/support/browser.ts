/**
 * Headless Chromium for the playground tests: Debian's /usr/bin/chromium (`.ci/run` installs it)
 * driven by playwright-core, nothing that phones home. One Chromium per test process, started by the first
 * launchBrowser() and shared by the files that run there (vitest's shared project runs many files per process);
 * each launchBrowser() gets a new browser context of its own (its own cookies, storage, permissions and pages, as a
 * fresh profile had), and close() closes that context. Playwright stops the browser when the process exits.
 * Starting Chromium once per process instead of nine times per run saves its start-up CPU on the 2-core machine.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does it)`;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

let running: Promise<Browser> | undefined;

async function sharedChromium(): Promise<Browser> {
  running ??= chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const browser = await running.catch((error: unknown) => {
    running = undefined;
    throw error;
  });
  if (browser.isConnected()) return browser;
  running = undefined; // it crashed or was closed: start another
  return sharedChromium();
}

export async function launchBrowser(): Promise<TestBrowser> {
  const context = await (await sharedChromium()).newContext({ viewport: { width: 1280, height: 860 } });
  return {
    context,
    async close() {
      await context.close();
    },
  };
}
