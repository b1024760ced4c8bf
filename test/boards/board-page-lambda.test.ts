/**
 * The board page on AWS: functions/board-page.ts answering function-URL events over the emulator's S3 (HTTP),
 * the same pages the playground serves (one renderer, bot/web/board-routes.ts). Tokens gate everything: a
 * `private` or `link` board, an unknown one and a malformed id give the same 404 without it; stored files are
 * 302s to presigned URLs that download the real bytes; hostile paths, methods and queries get 404/405, never a
 * 5xx. Then the page itself, served through a small HTTP front that turns requests into function-URL events
 * (as AWS does), in headless Chromium: every pin with its image loaded from the store's origin under the CSP.
 * The function's S3 requests go through a recording proxy: each is allowed by boardPageStatements, each right used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import sharp from 'sharp';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { silentLogger } from '../../core/log.ts';
import { loadConfig } from '../../core/config.ts';
import { createAwsPorts } from '../../core/aws/index.ts';
import { createBoardPageHandler } from '../../functions/board-page.ts';
import { boardPageStatements } from '../../infra/iam-policies.ts';
import { authorizationsOf, checkStatements, emulatorArns, startRecordingProxy, type RecordingProxy } from '../infra/aws-request-recorder.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { functionUrlRequest } from '../support/function-url-event.ts';
import { chromiumMissing, launchBrowser } from '../web/support/browser.ts';
import { finishJob, slackUser } from './support.ts';

const ARTIFACTS = 'test-artifacts';

describe('GIVEN a link board with three pins and a private board, and the board page Lambda over the emulator', () => {
  let emulator: TestEmulator;
  let proxy: RecordingProxy;
  let deps: BotDeps;
  let board: BoardStarted;
  let hidden: BoardStarted;
  let page: ReturnType<typeof createBoardPageHandler>;
  let jobId = '';
  const get = (path: string, query = '', method = 'GET') => page(functionUrlRequest(method, path, query));
  const bodyOf = (result: LambdaFunctionURLResult) => (typeof result === 'string' ? result : (result.body ?? ''));
  const statusOf = (result: LambdaFunctionURLResult) => (typeof result === 'string' ? 200 : result.statusCode);
  const headersOf = (result: LambdaFunctionURLResult) => (typeof result === 'string' ? {} : (result.headers ?? {}));

  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100, boardPageBaseUrl: 'https://pages.example/' };
    board = (await startBoard(deps, slackUser('host', 'P1'), { name: 'Page on AWS', brief: 'tidal <b>greens</b>', visibility: 'link' })) as BoardStarted;
    hidden = (await startBoard(deps, slackUser('host', 'P2'), { name: 'Secret board', visibility: 'private' })) as BoardStarted;
    jobId = ((await imagine(deps, slackUser('host', 'P1'), 'a green wave under a pale moon')) as { jobId: string }).jobId;
    await takeJobs(emulator.ports.queue);
    await finishJob(emulator.ports.blobs, jobId, 4, 96);
    for (const tile of [1, 2, 3]) await pressButton(deps, slackUser(`m${tile}`, 'P1'), `pin:${jobId}:${tile}`);
    await pressButton(deps, slackUser('voter', 'P1'), `vote:${jobId}:2`);
    proxy = await startRecordingProxy(emulator.endpoint);
    const viaProxy = createAwsPorts(loadConfig({ ...emulator.env(), AWS_ENDPOINT_URL: proxy.url }), { maxAttempts: 1 });
    page = createBoardPageHandler({ blobs: viaProxy.blobs, log: silentLogger });
  });
  afterAll(async () => {
    await proxy?.stop();
    await emulator?.stop();
  });

  it('WHEN the page is asked for with its token THEN it is the playground\'s page: pins, code, escaped brief, a CSP that allows only the store\'s images', async () => {
    expect(board.pageUrl).toMatch(new RegExp(`^https://pages\\.example/boards/${board.board.id}\\?t=`));
    const result = await get(`/boards/${board.board.id}`, `t=${encodeURIComponent(board.linkToken)}`);
    expect(statusOf(result)).toBe(200);
    const html = bodyOf(result);
    expect(html.match(/<li class="pin/g)).toHaveLength(3);
    expect(html).toContain('a green wave under a pale moon');
    expect(html).toContain('tidal &#60;b&#62;greens&#60;/b&#62;');
    expect(html).toMatch(/<code id="code">mb-b[a-z0-9]{11}-[a-z0-9]{13}<\/code>/);
    const csp = headersOf(result)['content-security-policy'];
    expect(csp).toBe(`default-src 'none'; img-src 'self' ${new URL(proxy.url).origin}; style-src 'unsafe-inline'`);
  });

  it('WHEN a pinned image or an export is asked for THEN a 302 to a presigned URL that downloads the real file', async () => {
    const t = `t=${encodeURIComponent(board.linkToken)}`;
    const image = await get(`/boards/${board.board.id}/image/${jobId}-2`, t);
    expect(statusOf(image)).toBe(302);
    const png = await fetch(String(headersOf(image).location));
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).width).toBe(96);
    const sheet = await get(`/boards/${board.board.id}/download/sheet.pdf`, t);
    expect(statusOf(sheet)).toBe(302);
    const pdf = new Uint8Array(await (await fetch(String(headersOf(sheet).location))).arrayBuffer());
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe('%PDF-');
    expect(statusOf(await get(`/boards/${board.board.id}/image/${jobId}-4`, t))).toBe(404);
    expect(bodyOf(await get(`/boards/${board.board.id}/download/secrets.txt`, t))).toContain('collage.png, sheet.pdf and board.zip');
  });

  it('WHEN the token is missing or wrong, the board private or unknown, or the id malformed THEN the same 404 that names no board', async () => {
    const answers = await Promise.all([
      get(`/boards/${board.board.id}`),
      get(`/boards/${board.board.id}`, `t=${'A'.repeat(43)}`),
      get(`/boards/${hidden.board.id}`),
      get(`/boards/${hidden.board.id}`, `t=${encodeURIComponent(board.linkToken)}`),
      get('/boards/bzzzzzzzzzzz', `t=${encodeURIComponent(board.linkToken)}`),
      get('/boards/../../etc/passwd'),
      get(`/boards/${board.board.id}/image/x`, `t=${'%ZZ'.repeat(5)}`),
    ]);
    for (const answer of answers) {
      expect(statusOf(answer)).toBe(404);
      expect(bodyOf(answer)).not.toMatch(/Page on AWS|Secret board/);
    }
    expect(bodyOf(answers[0])).toBe(bodyOf(answers[2]));
    // The private board's own token opens it.
    expect(statusOf(await get(`/boards/${hidden.board.id}`, `t=${encodeURIComponent(hidden.linkToken)}`))).toBe(200);
  });

  it('WHEN the request is not a read, or its path is no board path or absurdly long THEN 405 / 404, never a 5xx', async () => {
    expect(statusOf(await get(`/boards/${board.board.id}`, `t=${encodeURIComponent(board.linkToken)}`, 'POST'))).toBe(405);
    expect(headersOf(await get('/', '', 'DELETE')).allow).toBe('GET, HEAD');
    expect(statusOf(await get('/'))).toBe(404);
    expect(statusOf(await get(`/boards/${'b'.repeat(5000)}`))).toBe(404);
    const head = await get(`/boards/${board.board.id}`, `t=${encodeURIComponent(board.linkToken)}`, 'HEAD');
    expect(statusOf(head)).toBe(200);
    expect(bodyOf(head)).toBe('');
  });

  it('THEN every S3 request of the function is allowed by its statements, and every right granted is used', () => {
    const region = emulator.config.aws.region;
    const arns = emulatorArns(emulator);
    // The presigned GETs the browser followed were signed with the function's rights, so they count as its requests.
    const authorizations = proxy.requests.flatMap((r) => authorizationsOf(r, region));
    expect(checkStatements(boardPageStatements(arns), authorizations)).toEqual({ denied: [], unused: [] });
  });

  describe.skipIf(chromiumMissing !== undefined)(`in Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
    let front: Server;
    let base = '';
    beforeAll(async () => {
      // What the function URL does in AWS: an HTTP request becomes a function-URL event, the result an HTTP answer.
      front = createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://front');
        void page(functionUrlRequest(request.method ?? 'GET', url.pathname, url.search.slice(1))).then((result) => {
          if (typeof result === 'string') return void response.end(result);
          response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
          response.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
        });
      });
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
      await mkdir(ARTIFACTS, { recursive: true });
    });
    afterAll(async () => {
      await new Promise((resolve) => front?.close(resolve));
    });

    it('WHEN the page link is opened THEN every pin shows with its image loaded through the presigned redirect, the most voted first', async () => {
      const browser = await launchBrowser();
      try {
        const tab = await browser.context.newPage();
        const blocked: string[] = [];
        tab.on('console', (message) => void (message.type() === 'error' && blocked.push(message.text())));
        const response = await tab.goto(`${base}/boards/${board.board.id}?t=${encodeURIComponent(board.linkToken)}`);
        expect(response?.status()).toBe(200);
        expect(await tab.locator('h1').textContent()).toBe('Page on AWS');
        expect(await tab.locator('li.pin').count()).toBe(3);
        expect(await tab.locator('li.pin').first().getAttribute('data-votes')).toBe('1');
        await expect.poll(() => tab.locator('li.pin img').evaluateAll((imgs) => imgs.every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 96)), { timeout: 10_000 }).toBe(true);
        expect(blocked.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
        await tab.screenshot({ path: `${ARTIFACTS}/board-page-lambda.png`, fullPage: true });
        const bare = await tab.goto(`${base}/boards/${board.board.id}`);
        expect(bare?.status()).toBe(404);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
});
