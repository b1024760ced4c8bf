/**
 * A mood board in the playground, in headless Chromium against the whole `npm start` system (emulator over HTTP,
 * runner with the demo model on the CPU, dispatcher with the board header updater, web server): /board start in the
 * prompt box, images made in the board get 📌 per tile, pins appear in the side panel, two people vote (two
 * browser profiles = two sessions), the host picks the ⭐ hero, the read-only board page shows every pin with prompt,
 * seed, author, votes, lineage and the code, its downloads work, a missing or wrong token gets a 404, /board end
 * closes the panel and the page stays. Screenshots: test-artifacts/board-playground.png, board-page.png, board-collage.png.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJob } from '../../bot/job-records.ts';
import { DEMO_BUNDLE, type System } from '../../local/system.ts';
import { chromiumMissing, launchBrowser, type TestBrowser } from '../web/support/browser.ts';
import { makeDataDir, startTestSystem } from '../web/support/system.ts';

const ARTIFACTS = 'test-artifacts';
const TIMEOUT = 60_000;

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#prompt', text);
  await page.press('#prompt', 'Enter');
}

async function imagine(page: Page, prompt: string): Promise<string> {
  const before = await page.locator('article.msg').count();
  await send(page, `/imagine ${prompt}`);
  await expect.poll(() => page.locator('article.msg').count(), { timeout: 10_000 }).toBe(before + 1);
  const jobId = (await page.locator('article.msg').last().getAttribute('data-job')) ?? '';
  await page.locator(`article[data-job="${jobId}"][data-status="completed"]`).waitFor({ timeout: 45_000 });
  return jobId;
}

/** The page after its side panel has read the board again (the panel also refreshes on its own after each press). */
async function refreshed(page: Page): Promise<Page> {
  await page.evaluate(() => (window as unknown as { readBoard: () => Promise<void> }).readBoard());
  return page;
}

describe.skipIf(chromiumMissing !== undefined)(`GIVEN a mood board in the playground in Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dataDir: string;
  let system: System;
  let host: TestBrowser;
  let guest: TestBrowser;
  let page: Page;
  let guestPage: Page;
  const jobs: string[] = [];
  let pageUrl = '';

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    dataDir = await makeDataDir();
    system = await startTestSystem(dataDir, { MODEL_DIR: DEMO_BUNDLE });
    [host, guest] = await Promise.all([launchBrowser(), launchBrowser()]);
    page = await host.context.newPage();
    guestPage = await guest.context.newPage();
    for (const p of [page, guestPage]) {
      await p.goto(system.webUrl);
      await p.waitForSelector('body[data-ready="true"]');
    }
  }, TIMEOUT);

  afterAll(async () => {
    await Promise.all([host?.close(), guest?.close()]);
    await system?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('WHEN /board start is sent THEN the side panel shows the open board with its code', async () => {
    await send(page, '/board start "Harbour moods" --brief shapes on calm colours --duration 2h');
    await page.locator('.board-card h3').waitFor({ timeout: 10_000 });
    expect(await page.locator('.board-card h3').textContent()).toBe('📋 Harbour moods');
    expect(await page.locator('.board-code').textContent()).toMatch(/^mb-b[a-z0-9]{11}-[a-z0-9]{13}$/);
    expect(await page.locator('#board-empty').isHidden()).toBe(true);
    await send(page, '/board start "Second"');
    await expect.poll(() => page.locator('.ephemeral.error').last().textContent()).toContain('already has a board');
  }, TIMEOUT);

  it('WHEN images are made while it is open THEN they join it and each tile has a 📌', async () => {
    jobs.push(await imagine(page, 'a red circle at the top left on a blue background --seed 42'));
    jobs.push(await imagine(guestPage, 'a yellow square in the center on a green background --seed 7'));
    for (const jobId of jobs) {
      expect((await loadJob(system.ports.blobs, jobId))?.boardId).toMatch(/^b/);
      expect(await page.locator(`article[data-job="${jobId}"] [data-row="board"] button`).count()).toBe(4);
    }
  }, TIMEOUT);

  it('WHEN tiles are pinned, voted by two people and the host picks a hero THEN the panel shows it', async () => {
    await page.click(`button[data-custom-id="pin:${jobs[0]}:1"]`);
    await page.click(`button[data-custom-id="pin:${jobs[0]}:2"]`);
    await guestPage.click(`button[data-custom-id="pin:${jobs[1]}:3"]`);
    await expect.poll(async () => (await refreshed(page)).locator('.board-pin').count(), { timeout: 15_000 }).toBe(3);
    const pinned = `${jobs[1]}-3`;
    await page.click(`.board-pin[data-pin="${pinned}"] button[data-custom-id^="vote:"]`);
    await expect.poll(async () => (await refreshed(page)).locator(`.board-pin[data-pin="${pinned}"]`).getAttribute('data-votes'), { timeout: 15_000 }).toBe('1');
    await expect.poll(async () => (await refreshed(guestPage)).locator(`.board-pin[data-pin="${pinned}"]`).count(), { timeout: 15_000 }).toBe(1);
    await guestPage.locator(`.board-pin[data-pin="${pinned}"] button[data-custom-id^="vote:"]`).click();
    await expect.poll(async () => (await refreshed(page)).locator(`.board-pin[data-pin="${pinned}"]`).getAttribute('data-votes'), { timeout: 15_000 }).toBe('2');
    // Only the host sees ⭐; the guest's panel has none.
    expect(await guestPage.locator('.board-pin button[data-custom-id^="hero:"]').count()).toBe(0);
    await page.click(`.board-pin[data-pin="${jobs[0]}-2"] button[data-custom-id^="hero:"]`);
    await expect.poll(async () => (await refreshed(page)).locator('.board-pin.hero').getAttribute('data-pin'), { timeout: 15_000 }).toBe(`${jobs[0]}-2`);
    // The pin with two votes comes first.
    expect(await page.locator('.board-pin').first().getAttribute('data-pin')).toBe(pinned);
    await page.screenshot({ path: `${ARTIFACTS}/board-playground.png` });
  }, TIMEOUT);

  it('WHEN the board page is opened THEN it shows every pin with prompt, seed, author, votes, lineage and the code, and its downloads work', async () => {
    pageUrl = new URL((await page.locator('.board-page-link').getAttribute('href'))!, system.webUrl).toString();
    const board = await host.context.newPage();
    const response = await board.goto(pageUrl);
    expect(response?.status()).toBe(200);
    expect(await board.locator('li.pin').count()).toBe(3);
    expect(await board.locator('h1').textContent()).toBe('Harbour moods');
    expect(await board.locator('#code').textContent()).toMatch(/^mb-b/);
    const first = board.locator('li.pin').first();
    expect(await first.getAttribute('data-votes')).toBe('2');
    expect(await first.locator('.prompt').textContent()).toBe('a yellow square in the center on a green background');
    expect(await first.textContent()).toContain('seed');
    expect(await board.locator('li.pin.hero').count()).toBe(1);
    expect(await board.locator('.lineage').first().textContent()).toContain('original');
    await expect.poll(() => board.locator('li.pin img').evaluateAll((imgs) => imgs.every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0))).toBe(true);
    await board.screenshot({ path: `${ARTIFACTS}/board-page.png`, fullPage: true });
    const collage = await board.request.get(pageUrl.replace('?t=', '/download/collage.png?t='));
    expect(collage.status()).toBe(200);
    const bytes = await collage.body();
    expect((await sharp(bytes).metadata()).width).toBe(1600);
    await writeFile(`${ARTIFACTS}/board-collage.png`, bytes);
    const sheet = await board.request.get(pageUrl.replace('?t=', '/download/sheet.pdf?t='));
    expect(sheet.headers()['content-type']).toBe('application/pdf');
    // Without the token, or with a wrong one, the page says nothing about the board.
    const bare = await board.request.get(pageUrl.split('?')[0]!);
    expect(bare.status()).toBe(404);
    const wrong = await board.request.get(`${pageUrl.slice(0, -4)}AAAA`);
    expect(wrong.status()).toBe(404);
    expect(await wrong.text()).not.toContain('Harbour');
    await board.close();
  }, TIMEOUT);

  it('WHEN a guest tries to end it THEN it is refused; the host ends it, the panel empties and the page stays', async () => {
    await send(guestPage, '/board end');
    await expect.poll(() => guestPage.locator('.ephemeral.error').last().textContent()).toContain('Only the host or a co-host can end this board.');
    await send(page, '/board end');
    await expect.poll(() => page.locator('#board-empty').isVisible(), { timeout: 10_000 }).toBe(true);
    const after = await host.context.newPage();
    expect((await after.goto(pageUrl))?.status()).toBe(200);
    expect(await after.locator('header').textContent()).toContain('Ended');
    await after.close();
  }, TIMEOUT);
});
