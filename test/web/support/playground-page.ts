/** Driving the playground page in the e2e tests: one way to send a prompt and learn the job it made. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface SendOptions {
  /** The messages to count and take the new job's id from (default every `article.msg`). */
  messages?: string;
  /** How the prompt is sent: Enter in the box (default) or the send button. */
  submit?: 'enter' | 'click';
  /** Type it key by key (the autocomplete paths) instead of filling the box. */
  typed?: boolean;
  /** `false` for input that makes no message (a command that only answers in place): returns ''. */
  expectMessage?: boolean;
}

/** Sends `text` from the prompt box; waits for its new message and returns the job id the message carries. */
export async function sendPrompt(page: Page, text: string, options: SendOptions = {}): Promise<string> {
  const messages = page.locator(options.messages ?? 'article.msg');
  const before = await messages.count();
  await page.fill('#prompt', options.typed ? '' : text);
  if (options.typed) await page.locator('#prompt').pressSequentially(text);
  if (options.submit === 'click') await page.click('#send');
  else await page.press('#prompt', 'Enter');
  if (options.expectMessage === false) return '';
  await expect.poll(() => messages.count(), { timeout: 10_000, message: text }).toBe(before + 1);
  const jobId = (await messages.last().getAttribute('data-job')) ?? '';
  expect(jobId).toMatch(/^j[0-9a-f]{31}$/);
  return jobId;
}
