/**
 * The playground's text commands and the web request context (unit tests over in-memory ports):
 * which handler each line reaches, the refusals for unknown commands and bad job ids, and that a
 * retried request (same request id from the page) names the same job instead of making a second one.
 */
import { describe, expect, it } from 'vitest';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { PLAYGROUND_CHANNEL, runButton, runCommand, webContext } from '../../bot/web/commands.ts';
import { MemoryBlobStore, MemoryEventBus, MemoryJobQueue } from '../bot/support/memory-ports.ts';
import { help, show } from '../../bot/commands/index.ts';
import { buttonMakesJob, commandMakesJob } from '../../bot/web/commands.ts';
import { makeJob, makeResult, storeJob } from '../bot/support/fixtures.ts';

function deps() {
  return { queue: new MemoryJobQueue(), events: new MemoryEventBus(), blobs: new MemoryBlobStore(), moderation: createModerationPolicy({ blocklist: ['gore'] }), randomSeed: () => 7 };
}
const SESSION = '0123456789abcdef';

describe('GIVEN the playground prompt box', () => {
  it('WHEN a line is bare text or /imagine THEN both make an imagine job for this session in the playground channel', async () => {
    const bot = deps();
    const bare = await runCommand(bot, SESSION, 'a red circle --seed 3', 'request-0001');
    const slash = await runCommand(bot, SESSION, '/imagine a blue square', 'request-0002');
    expect(bare).toMatchObject({ kind: 'accepted', duplicate: false });
    expect(slash).toMatchObject({ kind: 'accepted', duplicate: false });
    expect(bot.queue.sent.map((job) => [job.kind, job.request.prompt, job.requester, job.delivery])).toEqual([
      ['imagine', 'a red circle', { platform: 'web', userId: SESSION, channelId: PLAYGROUND_CHANNEL }, { platform: 'web', sessionId: SESSION }],
      ['imagine', 'a blue square', { platform: 'web', userId: SESSION, channelId: PLAYGROUND_CHANNEL }, { platform: 'web', sessionId: SESSION }],
    ]);
  });

  it('WHEN the page retries a request with the same id THEN the same job is named and nothing new is queued', async () => {
    const bot = deps();
    const first = await runCommand(bot, SESSION, 'a red circle', 'request-0003');
    const again = await runCommand(bot, SESSION, 'a red circle', 'request-0003');
    expect(first.kind === 'accepted' && again.kind === 'accepted' && again.jobId === first.jobId && again.duplicate).toBe(true);
    expect(bot.queue.sent).toHaveLength(1);
  });

  it('WHEN the request id is missing or malformed THEN each request gets a fresh one', () => {
    expect(webContext(SESSION, undefined).sourceId).not.toBe(webContext(SESSION, undefined).sourceId);
    expect(webContext(SESSION, 'x').sourceId).not.toBe(webContext(SESSION, 'x').sourceId);
    expect(webContext(SESSION, 'request-0004').sourceId).toBe(`web:${SESSION}:request-0004`);
  });

  it('WHEN a line is a bad option, a blocked word, an unknown command or /info with a bad id THEN the refusal names the problem', async () => {
    const bot = deps();
    expect(await runCommand(bot, SESSION, 'a fox --ar 0:5')).toEqual({ kind: 'rejected', code: 'invalid_options', message: '--ar 0:5: both sides must be 1–21, e.g. 16:9' });
    expect(await runCommand(bot, SESSION, 'so much gore')).toMatchObject({ kind: 'rejected', code: 'blocked_prompt' });
    expect(await runCommand(bot, SESSION, '/paint a fox')).toEqual({ kind: 'rejected', code: 'unknown_command', message: 'Unknown command /paint. Try /help for the list, or /imagine a yellow circle in the center on a purple background.' });
    // Names of the command table's prototype are not commands either.
    for (const line of ['/constructor', '/toString x', '/hasOwnProperty']) expect(await runCommand(bot, SESSION, line)).toMatchObject({ kind: 'rejected', code: 'unknown_command' });
    expect(await runCommand(bot, SESSION, '/info ../../etc')).toMatchObject({ kind: 'rejected', code: 'invalid_job_id' });
    expect(bot.queue.sent).toEqual([]);
  });

  it('WHEN /settings is sent with options, alone, with reset or with a bad option THEN the session\'s own defaults are saved, shown, replaced or refused, and the next job uses them', async () => {
    const bot = deps();
    expect(await runCommand(bot, SESSION, '/settings --ar 3:2 --style anime')).toEqual({ kind: 'done', action: 'settings_saved', message: 'Saved your defaults: --ar 3:2 --style anime' });
    expect(await runCommand(bot, SESSION, '/settings --no text')).toMatchObject({ message: 'Saved your defaults: --ar 3:2 --no text --style anime' });
    expect(await runCommand(bot, SESSION, '/settings')).toEqual({ kind: 'info', title: 'Your defaults', lines: ['Defaults: --ar 3:2 --no text --style anime'], copyable: [] });
    await runCommand(bot, SESSION, 'a red circle', 'request-0006');
    expect(bot.queue.sent[0]!.request).toMatchObject({ aspect: { w: 3, h: 2 }, style: 'anime', negativePrompt: 'text' });
    expect(await runCommand(bot, SESSION, '/settings reset --size small')).toMatchObject({ message: 'Saved your defaults: --size small' });
    expect(await runCommand(bot, SESSION, '/settings RESET')).toMatchObject({ message: 'Saved your defaults: (none)' });
    expect(await runCommand(bot, SESSION, '/settings --ar 0:5')).toEqual({ kind: 'rejected', code: 'invalid_options', message: '--ar 0:5: both sides must be 1–21, e.g. 16:9' });
    expect(await runCommand(bot, SESSION, '/settings --seed 4')).toMatchObject({ kind: 'rejected', code: 'invalid_settings' });
    // Another session's defaults are its own.
    expect(await runCommand(bot, 'fedcba9876543210', '/settings')).toMatchObject({ lines: ['Defaults: (none)'] });
  });

  it('WHEN /info is sent alone or with a job id THEN the usage or the job details come back', async () => {
    const bot = deps();
    const made = await runCommand(bot, SESSION, 'a red circle --seed 3', 'request-0005');
    if (made.kind !== 'accepted') throw new Error('not accepted');
    expect(await runCommand(bot, SESSION, '/info')).toMatchObject({ kind: 'info', title: 'Your usage', lines: expect.arrayContaining(['In progress: 1 of 3 allowed at once']) });
    expect(await runCommand(bot, SESSION, `/info ${made.jobId}`)).toMatchObject({ kind: 'info', title: `Job ${made.jobId}` });
  });

  it('WHEN a button id is tampered with THEN pressButton refuses it', async () => {
    expect(await runButton(deps(), SESSION, 'upscale:j1:9')).toMatchObject({ kind: 'rejected', code: 'invalid_button_id' });
  });

  it('WHEN /help is sent THEN the shared help answer comes back, naming every command the prompt box takes', async () => {
    const reply = await runCommand(deps(), SESSION, '/help');
    expect(reply).toEqual(help());
    for (const name of ['/imagine', '/info', '/show', '/cancel', '/settings', '/help']) expect(reply.kind === 'info' && reply.lines.some((line) => line.startsWith(name))).toBe(true);
    // Every command /help names is one the prompt box knows.
    for (const name of ['/info', '/show', '/cancel', '/settings', '/help']) expect(await runCommand(deps(), SESSION, name)).not.toMatchObject({ code: 'unknown_command' });
  });

  it('WHEN /show names a finished job THEN the shared /show answer comes back without reading a grid; an unfinished, unknown or malformed id gets its refusal', async () => {
    const bot = deps();
    const job = makeJob({ id: 'jshow1', requester: { platform: 'web', userId: SESSION, channelId: PLAYGROUND_CHANNEL } });
    const result = { ...makeResult(job), grid: undefined };
    storeJob(bot.blobs, job, result);
    const reply = await runCommand(bot, SESSION, '/show jshow1');
    expect(reply).toMatchObject({ kind: 'show', jobId: 'jshow1', message: { status: 'completed', jobId: 'jshow1' } });
    expect(reply).toEqual(await show(bot, webContext(SESSION, undefined), 'jshow1', 'by-key'));
    expect(reply).not.toHaveProperty('attachment');
    storeJob(bot.blobs, makeJob({ id: 'jshow2', requester: job.requester }));
    expect(await runCommand(bot, SESSION, '/show jshow2')).toMatchObject({ kind: 'rejected', code: 'not_finished' });
    expect(await runCommand(bot, SESSION, '/show jnothere')).toMatchObject({ kind: 'rejected', code: 'not_found' });
    expect(await runCommand(bot, SESSION, '/show ../x')).toMatchObject({ kind: 'rejected', code: 'invalid_job_id' });
  });

  it('WHEN /cancel is sent alone or with a job id THEN the newest own job or the named one is cancelled; another session\'s job is refused', async () => {
    const bot = deps();
    const first = await runCommand(bot, SESSION, 'a red circle', 'request-0010');
    const second = await runCommand(bot, SESSION, 'a blue circle', 'request-0011');
    if (first.kind !== 'accepted' || second.kind !== 'accepted') throw new Error('not accepted');
    expect(await runCommand(bot, 'fedcba9876543210', `/cancel ${first.jobId}`)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await bot.blobs.exists(`jobs/${first.jobId}/cancel.json`)).toBe(false);
    expect(await runCommand(bot, SESSION, '/cancel')).toMatchObject({ kind: 'done', action: 'cancelled', jobId: second.jobId });
    expect(await runCommand(bot, SESSION, `/cancel ${first.jobId.toUpperCase()}`)).toMatchObject({ kind: 'done', action: 'cancelled', jobId: first.jobId });
    expect(await bot.blobs.exists(`jobs/${first.jobId}/cancel.json`)).toBe(true);
    expect(await runCommand(bot, SESSION, '/cancel nope!')).toMatchObject({ kind: 'rejected', code: 'invalid_job_id' });
  });

  it('WHEN the server asks whether a request can make a job THEN bare text, /imagine and the job-making buttons can; other commands and buttons cannot', () => {
    expect(['a fox', '/imagine a fox', '/IMAGINE a fox', '  hello'].map(commandMakesJob)).toEqual([true, true, true, true]);
    expect(['/info', '/help', '/show j1', '/cancel', '/settings --ar 3:2'].map(commandMakesJob)).toEqual([false, false, false, false, false]);
    expect(['upscale:j1:2', 'vary_subtle:j1:1', 'vary_strong:j1:1', 'remix:j1:3', 'reroll:j1:0'].map(buttonMakesJob)).toEqual([true, true, true, true, true]);
    expect(['info:j1:0', 'delete:j1:0', 'cancel:j1:0', 'upscale:j1:9', 'junk'].map(buttonMakesJob)).toEqual([false, false, false, false, false]);
  });
});
