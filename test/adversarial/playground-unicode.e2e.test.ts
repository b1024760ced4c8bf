/**
 * The table of non-ASCII prompts (emoji, ZWJ sequences, CJK, RTL, combining marks, astral-plane text)
 * typed into the playground in headless Chromium, against the whole `npm start` system with the tiny
 * test bundle: each message reaches done with four tiles, shows its prompt as typed, and its job.json
 * holds the prompt and --no text exactly (issue #18, item 4: every emoji prompt answered
 * "something went wrong" here before, the emulator refusing the queue message).
 */
import { rm } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJob } from '../../bot/job-records.ts';
import type { System } from '../../local/system.ts';
import { chromiumMissing, launchBrowser, type TestBrowser } from '../web/support/browser.ts';
import { sendPrompt } from '../web/support/playground-page.ts';
import { makeDataDir, startTestSystem } from '../web/support/system.ts';
import { UNICODE_PROMPTS } from './support/unicode-prompts.ts';

const TIMEOUT = 60_000;

describe.skipIf(chromiumMissing !== undefined)(`GIVEN the playground in Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dataDir: string;
  let system: System;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    system = await startTestSystem(dataDir, { MAX_PENDING_PER_USER: '20' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.webUrl);
    await page.waitForSelector('body[data-ready="true"]');
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('WHEN each prompt of the table is sent THEN each message is done with four tiles, shows the prompt, and the job holds it exactly', async () => {
    const sent: Array<{ name: string; prompt: string; negative: string; jobId: string }> = [];
    for (const [index, { name, prompt, negative }] of UNICODE_PROMPTS.entries()) {
      sent.push({ name, prompt, negative, jobId: await sendPrompt(page, `/imagine ${prompt} --no ${negative} --seed ${index + 1}`) });
    }
    for (const { name, prompt, negative, jobId } of sent) {
      const done = page.locator(`article[data-job="${jobId}"][data-status="completed"]`);
      await done.waitFor({ timeout: 45_000 });
      await expect.poll(() => done.locator('.tiles img').count(), { message: name }).toBe(4);
      expect(await done.locator('.title b').textContent(), name).toContain(prompt.slice(0, 40));
      const job = await loadJob(system.ports.blobs, jobId);
      expect(job?.request.prompt, name).toBe(prompt);
      expect(job?.request.negativePrompt, name).toBe(negative);
    }
    expect(await page.locator('.ephemeral').allTextContents()).not.toContainEqual(expect.stringContaining('went wrong'));
  }, 120_000);
});

