/**
 * The playground as a full front end (issue #24), in headless Chromium against the whole `npm start` system
 * with the tiny test bundle: /help, /show, /cancel; the remix row; the newest job kept in view unless the reader
 * scrolled up; the tile viewer with its PNG download (parameters read back from the file's text chunks) and the
 * copied reproduce line; labelled buttons; keyboard (Enter, ↑, Esc); the character counter; em-dash options;
 * the ETA; and, against a bare server, the channel loaded one page at a time.
 * Screenshots go to test-artifacts/.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJob, loadResult } from '../../bot/job-records.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { WebPoster } from '../../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground } from '../../bot/web/server.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { System } from '../../local/system.ts';
import { makeJob } from '../bot/support/fixtures.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { chromiumMissing, launchBrowser, type TestBrowser } from './support/browser.ts';
import { sendPrompt, type SendOptions } from './support/playground-page.ts';
import { makeDataDir, startTestSystem } from './support/system.ts';

const ARTIFACTS = 'test-artifacts';
const TIMEOUT = 60_000;
const skip = chromiumMissing !== undefined;
const because = chromiumMissing ? ` (skipped: ${chromiumMissing})` : '';

describe.skipIf(skip)(`GIVEN the playground in Chromium with the tiny model${because}`, () => {
  let dataDir: string;
  let system: System;
  let browser: TestBrowser;
  let page: Page;
  let gridId = '';

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    dataDir = await makeDataDir();
    system = await startTestSystem(dataDir, { MAX_PENDING_PER_USER: '20' });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    page = await browser.context.newPage();
    const notFound: string[] = [];
    page.on('response', (response) => { if (response.status() === 404) notFound.push(response.url()); });
    await page.goto(system.webUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await recordEtas(page);
    expect(notFound).toEqual([]); // /favicon.ico included
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('WHEN "—ar 16:9" (and "—-ar", three hyphens autocorrected) is typed key by key THEN the option is read, not made prompt text', async () => {
    for (const dash of ['—', '—-']) {
      const id = await send(page, `a red fox ${dash}ar 16:9 --seed 3`, { typed: true });
      const job = await loadJob(system.ports.blobs, id);
      expect(job?.request.prompt).toBe('a red fox');
      expect(job?.request.aspect).toEqual({ w: 16, h: 9 });
      await done(page, id);
      gridId = id;
    }
  }, TIMEOUT);

  it('WHEN a grid is shown THEN every button has a visible word, an accessible name and a tooltip (no emoji-only boxes)', async () => {
    const buttons = page.locator(`article[data-job="${gridId}"] button[data-custom-id]`);
    const described = await buttons.evaluateAll((all) => all.map((b) => ({ action: b.getAttribute('data-action'), text: (b as HTMLElement).innerText.trim(), name: b.getAttribute('aria-label') ?? '', title: b.getAttribute('title') ?? '' })));
    // U1–U4 + reroll, V1–V4 + info, V1+–V4+ + delete, R1–R4, and any row other features add (More like this, Pin).
    expect(described.length).toBeGreaterThanOrEqual(4 + 1 + 4 + 1 + 4 + 1 + 4);
    for (const button of described) {
      expect(button.text, JSON.stringify(button)).toMatch(/[A-Za-z]/);
      expect(button.name.length).toBeGreaterThan(3);
      expect(button.title).toBe(button.name);
    }
    expect(described.find((b) => b.action === 'reroll')?.text).toBe('🔄 Reroll');
    expect(described.find((b) => b.action === 'delete')?.name).toBe('Delete this job and its images');
    expect(described.find((b) => b.action === 'upscale')?.name).toBe('Upscale tile 1');
    expect(await page.getByRole('button', { name: 'How this was made' }).count()).toBeGreaterThan(0);
    await page.locator(`article[data-job="${gridId}"]`).screenshot({ path: `${ARTIFACTS}/playground-labels.png` });
  }, TIMEOUT);

  it('WHEN a tile is clicked THEN the viewer shows it full size with prompt, seed and options; the download is a PNG whose text chunks hold its parameters; the reproduce line is copied; Esc closes it', async () => {
    const result = (await loadResult(system.ports.blobs, gridId))!;
    const tile = result.images[1]!;
    await page.locator(`article[data-job="${gridId}"] .tile[data-index="2"]`).click();
    const viewer = page.locator('#viewer[open]');
    await viewer.waitFor();
    expect(await page.locator('#viewer-prompt').textContent()).toBe('a red fox');
    expect(await page.locator('#viewer-seed').textContent()).toBe(String(tile.seed));
    expect(await page.locator('#viewer-size').textContent()).toBe(`${tile.width}×${tile.height}`);
    expect(await page.locator('#viewer-options').textContent()).toContain(`--ar 16:9 --seed ${tile.seed}`);
    await expect.poll(() => page.locator('#viewer-image').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(tile.width);
    await page.screenshot({ path: `${ARTIFACTS}/playground-viewer.png` });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#viewer-download').click()]);
    expect(download.suggestedFilename()).toBe(`cascade-${gridId}-2.png`);
    const bytes = await readFile((await download.path()));
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', tile.width, tile.height]);
    expect(pngTextChunks(bytes)).toEqual(['prompt', 'seed', 'size', 'options', 'reproduce', 'model', 'job']);
    const reproduce = `/imagine a red fox --ar 16:9 --seed ${tile.seed}`;
    // The same chunks as sharp (libspng) reads them back.
    const text = Object.fromEntries((meta.comments ?? []).map((c) => [c.keyword, c.text]));
    expect(text).toMatchObject({ prompt: 'a red fox', seed: String(tile.seed), size: `${tile.width}x${tile.height}`, reproduce, job: `${gridId} tile 2` });
    expect(text.options).toContain(`--ar 16:9 --seed ${tile.seed}`);
    // The pixels are the stored tile's.
    const stored = await sharp(Buffer.from((await system.ports.blobs.get(tile.key))!)).raw().toBuffer();
    expect((await sharp(bytes).raw().toBuffer()).equals(stored)).toBe(true);

    expect(await page.locator('#viewer-reproduce').textContent()).toBe(reproduce);
    await page.locator('#viewer-copy').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(reproduce);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#viewer').evaluate((dialog) => (dialog as HTMLDialogElement).open)).toBe(false);
  }, TIMEOUT);

  it('WHEN R2 is pressed and a new prompt sent THEN a strong variation of tile 2 with the new prompt and its own options is made; Esc closes the dialog unsent', async () => {
    const remix = page.locator(`article[data-job="${gridId}"] button[data-custom-id="remix:${gridId}:2"]`);
    await remix.click();
    await page.locator('#remix[open]').waitFor();
    expect(await page.inputValue('#remix-text')).toBe('a red fox');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#remix').evaluate((dialog) => (dialog as HTMLDialogElement).open)).toBe(false);
    const before = await page.locator('article.msg[data-job]').count();
    await remix.click();
    await page.fill('#remix-text', 'a blue fox --ar 3:2');
    await page.screenshot({ path: `${ARTIFACTS}/playground-remix.png` });
    await page.locator('#remix-send').click();
    await expect.poll(() => page.locator('article.msg[data-job]').count()).toBe(before + 1);
    const child = page.locator(`article.msg[data-parent="${gridId}"][data-kind="variation"]`);
    await child.waitFor();
    const job = await loadJob(system.ports.blobs, (await child.getAttribute('data-job'))!);
    expect(job).toMatchObject({ kind: 'variation', strength: 'strong', parent: { jobId: gridId, index: 2 }, request: { prompt: 'a blue fox', aspect: { w: 3, h: 2 } } });
    await done(page, job!.id);
  }, TIMEOUT);

  it('WHEN /help, /show <job> and /cancel are typed THEN the shared handlers answer as on the chat platforms', async () => {
    const help = await say(page, '/help');
    expect(await help.textContent()).toContain('/show <job> — post a finished job again');
    await send(page, `/show ${gridId}`, { expectMessage: false });
    const copy = page.locator(`article.repost[data-show-of="${gridId}"]`);
    await copy.waitFor();
    expect(await copy.locator('.tiles img').count()).toBe(4);
    expect(await copy.locator('.title b').textContent()).toBe('a red fox');
    const nothing = await say(page, '/cancel');
    expect(await nothing.textContent()).toContain('You have no images in progress to cancel.');
    expect(await (await say(page, '/show jnothere')).textContent()).toContain('There is no job jnothere');
  }, TIMEOUT);

  it('WHEN the box holds more than 2 000 characters THEN the counter says so, sending is off, and nothing was cut; ↑ recalls the last prompt; Enter sends', async () => {
    const long = 'a fox '.repeat(350); // 2 100 characters
    await page.fill('#prompt', long);
    expect((await page.inputValue('#prompt')).length).toBe(2100);
    expect(await page.locator('#counter').textContent()).toBe('2,100 / 2,000');
    expect(await page.locator('#counter').getAttribute('class')).toContain('over');
    expect(await page.locator('#send').isDisabled()).toBe(true);
    expect(await page.locator('#limit-note').textContent()).toBe('The prompt is 100 characters over the 2,000-character limit; shorten it to send.');
    await page.screenshot({ path: `${ARTIFACTS}/playground-counter.png` });
    await page.fill('#prompt', 'short');
    expect(await page.locator('#counter').textContent()).toBe('5 / 2,000');
    expect(await page.locator('#send').isDisabled()).toBe(false);

    await page.fill('#prompt', '');
    await page.focus('#prompt');
    await page.keyboard.press('ArrowUp');
    expect(await page.inputValue('#prompt')).toBe('/show jnothere');
    await page.keyboard.press('ArrowUp');
    expect(await page.inputValue('#prompt')).toBe('/cancel');
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue('#prompt')).toBe('/show jnothere');
    await page.fill('#prompt', '');
  }, TIMEOUT);

  it('WHEN jobs finish THEN the newest grid stays in view; WHEN the reader has scrolled up THEN a new job does not pull them down', async () => {
    for (let i = 0; i < 2; i++) await done(page, await send(page, `a green square ${i} --seed ${10 + i}`));
    const inView = async (jobId: string) => page.evaluate((id) => {
      const list = document.getElementById('messages')!.getBoundingClientRect();
      const article = document.querySelector(`article[data-job="${id}"]`)!.getBoundingClientRect();
      return article.bottom <= list.bottom + 1 && article.top < list.bottom;
    }, jobId);
    const newest = await send(page, 'a yellow square --seed 20');
    await done(page, newest);
    await page.locator(`article[data-job="${newest}"] .tiles img`).first().evaluate((img) => new Promise((resolve) => ((img as HTMLImageElement).complete ? resolve(null) : img.addEventListener('load', resolve))));
    await expect.poll(() => inView(newest)).toBe(true);
    expect(await page.evaluate(() => document.getElementById('messages')!.scrollHeight > document.getElementById('messages')!.clientHeight)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/playground-newest-in-view.png` });

    await page.evaluate(() => { document.getElementById('messages')!.scrollTop = 0; });
    await page.waitForTimeout(100);
    const reply = (await (await page.request.post(new URL('/api/command', system.webUrl).href, { data: { text: 'a purple square --seed 21' } })).json()) as { jobId: string };
    await done(page, reply.jobId);
    expect(await page.evaluate(() => document.getElementById('messages')!.scrollTop)).toBe(0);
  }, TIMEOUT);

  it('WHEN jobs have finished here before THEN queued and running jobs show an estimate of the time left', async () => {
    // The tiny model's default job can start and finish between two of the dispatcher's edits, so on an idle machine
    // no job was ever seen running (no duration, no estimate). At 100 steps each job is seen running, and the ones
    // behind it wait queued.
    const slow = '--steps 100 --size large';
    const ids = [await send(page, `a cyan square --seed 30 ${slow}`), await send(page, `a cyan square --seed 31 ${slow}`), await send(page, `a cyan square --seed 32 ${slow}`)];
    for (const id of ids) await done(page, id);
    const etas = await page.evaluate((jobIds) => jobIds.flatMap((id) => (window as unknown as { seenEtas: Record<string, string[]> }).seenEtas[id] ?? []), ids);
    expect(etas.length).toBeGreaterThan(0);
    for (const eta of etas) expect(eta).toMatch(/^ · (about \d+ (s|min) left|any moment now)$/);
  }, TIMEOUT);
});

describe.skipIf(skip)(`GIVEN a channel of 75 jobs, in Chromium${because}`, () => {
  let emulator: TestEmulator;
  let web: WebPlayground;
  let browser: TestBrowser;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const base = Date.parse('2026-12-01T00:00:00.000Z');
    for (let i = 0; i < 75; i++) {
      const job = makeJob({ id: `jmany${String(i).padStart(3, '0')}`, createdAt: new Date(base + i * 1000).toISOString(), request: { ...makeJob().request, prompt: `prompt ${i}` }, requester: { platform: 'web', userId: 'wsomeone', channelId: 'playground' } });
      await emulator.ports.blobs.put(jobKeys.job(job.id), JSON.stringify(job), 'application/json');
    }
    web = await startWebPlayground({ bot: { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }) }, poster: new WebPoster(emulator.ports.blobs), port: 0 });
    browser = await launchBrowser();
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await emulator?.stop();
  });

  it('WHEN the page opens THEN it shows and loads only the newest 30; "Load older messages" adds the pages before, keeping the reader in place', async () => {
    const page = await browser.context.newPage();
    const channelReads: string[] = [];
    page.on('request', (request) => { if (request.url().includes('/api/messages')) channelReads.push(new URL(request.url()).search); });
    await page.goto(web.url);
    await page.waitForSelector('body[data-ready="true"]');
    const shown = () => page.locator('article.msg[data-job]').count();
    expect(await shown()).toBe(30);
    expect(await page.locator('article.msg[data-job]').first().getAttribute('data-job')).toBe('jmany045');
    expect(channelReads).toEqual(['']);
    await page.evaluate(() => { document.getElementById('messages')!.scrollTop = 0; });
    await page.locator('#load-older').click();
    await expect.poll(shown).toBe(60);
    await page.locator('#load-older').click();
    await expect.poll(shown).toBe(75);
    expect(await page.locator('#load-older').isHidden()).toBe(true);
    const order = await page.locator('article.msg[data-job]').evaluateAll((all) => all.map((a) => a.getAttribute('data-job')));
    expect(order).toEqual(Array.from({ length: 75 }, (_, i) => `jmany${String(i).padStart(3, '0')}`));
    await page.close();
  }, TIMEOUT);
});

/** Types (or fills) a line and presses Enter; returns the id of the job message it creates. */
function send(page: Page, text: string, options: Pick<SendOptions, 'typed' | 'expectMessage'> = {}): Promise<string> {
  return sendPrompt(page, text, { messages: 'article.msg[data-job]', ...options });
}

/** Sends a command whose answer is a note for the sender only; returns that note. */
async function say(page: Page, text: string) {
  const before = await page.locator('.ephemeral').count();
  await send(page, text, { expectMessage: false });
  await expect.poll(() => page.locator('.ephemeral').count(), { timeout: 10_000 }).toBe(before + 1);
  return page.locator('.ephemeral').last();
}

async function done(page: Page, jobId: string): Promise<void> {
  await page.locator(`article[data-job="${jobId}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
}

/** Records every ETA text each job message shows, as the DOM changes. */
async function recordEtas(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { seenEtas: Record<string, string[]> };
    w.seenEtas = {};
    new MutationObserver(() => {
      for (const eta of Array.from(document.querySelectorAll<HTMLElement>('article.msg[data-job] .eta'))) {
        const id = eta.closest('article')!.getAttribute('data-job')!;
        const seen = (w.seenEtas[id] ??= []);
        if (seen.at(-1) !== eta.textContent) seen.push(eta.textContent ?? '');
      }
    }).observe(document.getElementById('messages')!, { subtree: true, childList: true, characterData: true });
  });
}

/** Keywords of a PNG's text chunks (tEXt, zTXt, iTXt), read straight from the file's chunk list. */
function pngTextChunks(png: Buffer): string[] {
  const keywords: string[] = [];
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') keywords.push(png.toString('latin1', at + 8, png.indexOf(0, at + 8)));
    at += 12 + length;
  }
  return keywords;
}
