/**
 * Pictures in the playground, end to end in headless Chromium against the whole `npm start` system with the tiny test
 * bundle (which has both image encoders): a real PNG dropped on the channel becomes a thumbnail with a weight, the
 * prompt with it makes a job that carries the picture (stored, normalised, weighted) and completes with 🧬; a picture
 * from the file picker marked "use as start image" makes an image-to-image job with the slider's strength, in the
 * picture's shape; a pasted picture can be removed; files that are no pictures are refused with a sentence.
 * Screenshots go to test-artifacts/.
 */
import { mkdir, rm } from 'node:fs/promises';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJob, loadResult } from '../../bot/job-records.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { System } from '../../local/system.ts';
import { chromiumMissing, launchBrowser, type TestBrowser } from './support/browser.ts';
import { sendPrompt } from './support/playground-page.ts';
import { makeDataDir, startTestSystem } from './support/system.ts';

const ARTIFACTS = 'test-artifacts';
const TIMEOUT = 60_000;
const because = chromiumMissing ? ` (skipped: ${chromiumMissing})` : '';

describe.skipIf(chromiumMissing !== undefined)(`GIVEN the playground in Chromium with the tiny model and pictures${because}`, () => {
  let dataDir: string;
  let system: System;
  let browser: TestBrowser;
  let page: Page;
  let red: Buffer;
  let wide: Buffer;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    dataDir = await makeDataDir();
    system = await startTestSystem(dataDir, { MAX_PENDING_PER_USER: '20' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(system.webUrl);
    await page.waitForSelector('body[data-ready="true"]');
    red = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#d22' } }).png().toBuffer();
    wide = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#2a2' } }).png().toBuffer();
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('WHEN a PNG is dropped on the channel, weighted 0.5 and sent with a prompt THEN the job carries it and completes with 🧬', async () => {
    await drop(page, 'main.channel', [{ name: 'red.png', type: 'image/png', bytes: red }]);
    await expect.poll(() => page.locator('#thumbs .thumb').count()).toBe(1);
    expect(await page.locator('#thumbs .thumb img').evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBe(96);
    await page.fill('#thumbs .thumb input.weight', '0.5');
    await page.screenshot({ path: `${ARTIFACTS}/playground-picture-dropped.png` });
    const jobId = await send(page, 'a red square on white --seed 11');
    await expect.poll(() => page.locator('#thumbs .thumb').count()).toBe(0);
    const job = await loadJob(system.ports.blobs, jobId);
    expect(job?.request).toMatchObject({ prompt: 'a red square on white', seed: 11, imagePrompts: [{ key: jobKeys.input(jobId, 0), weight: 0.5 }] });
    const stored = await system.ports.blobs.get(jobKeys.input(jobId, 0));
    const { channels } = await sharp(stored!).stats();
    expect(await sharp(stored!).metadata()).toMatchObject({ format: 'png', width: 96, height: 64 });
    expect(channels.slice(0, 3).map((c) => Math.round(c.mean))).toEqual([221, 34, 34]);
    await done(page, jobId);
    expect((await loadResult(system.ports.blobs, jobId))?.model.imagePrompts).toBe(true);
    expect(await page.locator(`article[data-job="${jobId}"] [data-row="more"] button`).count()).toBe(4);
    await page.screenshot({ path: `${ARTIFACTS}/playground-picture-done.png` });
  });

  it('WHEN a picture from the file picker is used as the start image at strength 0.4 THEN an image-to-image job in its 2:1 shape', async () => {
    await page.setInputFiles('#file-picker', { name: 'wide.png', mimeType: 'image/png', buffer: wide });
    await expect.poll(() => page.locator('#thumbs .thumb').count()).toBe(1);
    expect(await page.locator('#strength-control').isVisible()).toBe(false);
    await page.check('#thumbs .thumb input.use-start');
    expect(await page.locator('#strength-control').isVisible()).toBe(true);
    expect(await page.locator('#thumbs .thumb input.weight').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/playground-start-image.png` });
    await page.locator('#strength').fill('0.4');
    expect(await page.locator('#strength-value').textContent()).toBe('0.4');
    const jobId = await send(page, '');
    const job = await loadJob(system.ports.blobs, jobId);
    expect(job?.request).toMatchObject({ prompt: '', imageStrength: 0.4, initImage: { key: jobKeys.input(jobId, 0), strength: 0.4 }, aspect: { w: 2, h: 1 } });
    expect(job?.request.imagePrompts).toBeUndefined();
    await done(page, jobId);
  });

  it('WHEN a picture is pasted into the prompt box THEN it is added, and ✕ removes it', async () => {
    await page.focus('#prompt');
    await page.evaluate((bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
      document.getElementById('prompt')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, [...red]);
    await expect.poll(() => page.locator('#thumbs .thumb').count()).toBe(1);
    await page.click('#thumbs .thumb button.remove');
    await expect.poll(() => page.locator('#thumbs .thumb').count()).toBe(0);
    expect(await page.locator('#attachments').isHidden()).toBe(true);
  });

  it('WHEN a GIF is dropped, or a "PNG" that is text is sent THEN each is refused with its sentence and no job is made', async () => {
    const notes = page.locator('.ephemeral');
    const before = await notes.count();
    await drop(page, 'main.channel', [{ name: 'anim.gif', type: 'image/gif', bytes: Buffer.from('GIF89a') }]);
    await expect.poll(() => notes.count()).toBe(before + 1);
    expect(await notes.last().textContent()).toContain('anim.gif is not a PNG, JPEG or WebP picture.');
    expect(await page.locator('#thumbs .thumb').count()).toBe(0);

    const jobs = await page.locator('article.msg[data-job]').count();
    await drop(page, 'main.channel', [{ name: 'fake.png', type: 'image/png', bytes: Buffer.from('just some text') }]);
    await page.fill('#prompt', 'a castle');
    await page.press('#prompt', 'Enter');
    await expect.poll(() => notes.count()).toBe(before + 2);
    expect(await notes.last().textContent()).toContain('The image is not a picture this bot reads.');
    expect(await page.locator('article.msg[data-job]').count()).toBe(jobs);
    // The refused prompt and its picture stay, so the user can fix them.
    expect(await page.inputValue('#prompt')).toBe('a castle');
    expect(await page.locator('#thumbs .thumb').count()).toBe(1);
  });
});

/** A real drop: a DataTransfer with the files, dragover then drop on `selector`, as a browser dispatches them. */
async function drop(page: Page, selector: string, files: Array<{ name: string; type: string; bytes: Buffer }>): Promise<void> {
  const transfer = await page.evaluateHandle((list) => {
    const data = new DataTransfer();
    for (const file of list) data.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: file.type }));
    return data;
  }, files.map((file) => ({ name: file.name, type: file.type, bytes: [...file.bytes] })));
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: transfer });
}

/** The picture tests send with the button and count job messages only. */
function send(page: Page, text: string): Promise<string> {
  return sendPrompt(page, text, { messages: 'article.msg[data-job]', submit: 'click' });
}

async function done(page: Page, jobId: string): Promise<void> {
  await page.locator(`article[data-job="${jobId}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
}
