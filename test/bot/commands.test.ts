import { beforeEach, describe, expect, it } from 'vitest';
import { type Job } from '../../core/job.ts';
import { jobKeys, pendingKeys } from '../../core/storage-layout.ts';
import { cancel, imagine, jobInfo, pressButton, settings, show, usage } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { writeChannelSettings } from '../../bot/settings.ts';
import { checkAdmission, submitJob } from '../../bot/submit.ts';
import { MemoryBlobStore, MemoryEventBus, MemoryJobQueue } from './support/memory-ports.ts';
import { alice, bob, contextFor, makeJob, makeResult, storeJob } from './support/fixtures.ts';

let blobs: MemoryBlobStore;
let queue: MemoryJobQueue;
let deps: BotDeps;
const parent = makeJob();

beforeEach(async () => {
  blobs = new MemoryBlobStore();
  queue = new MemoryJobQueue();
  deps = {
    queue,
    events: new MemoryEventBus(),
    blobs,
    moderation: createModerationPolicy({ blocklist: ['gore'], restrictedOnly: ['nude'] }),
    randomSeed: () => 777,
    now: () => Date.parse('2026-11-26T10:05:00Z'),
  };
  storeJob(blobs, parent, makeResult(parent));
  await blobs.put(jobKeys.grid(parent.id), new Uint8Array([9, 9, 9]), 'image/png');
});

describe('imagine', () => {
  it('GIVEN a prompt with options THEN a job is enqueued with them and the reply names its id', async () => {
    const reply = await imagine(deps, contextFor(alice), 'a red fox --ar 16:9 --chaos 20');
    expect(reply).toMatchObject({ kind: 'accepted', duplicate: false, position: 1 });
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.request).toMatchObject({ prompt: 'a red fox', aspect: { w: 16, h: 9 }, chaos: 20, seed: 777 });
    expect(queue.sent[0]!.requester).toEqual(alice);
  });

  it('GIVEN the same interaction twice THEN the second is a duplicate and nothing new is sent', async () => {
    const ctx = contextFor(alice);
    await imagine(deps, ctx, 'a red fox');
    const again = await imagine(deps, ctx, 'a red fox');
    expect(again).toMatchObject({ kind: 'accepted', duplicate: true });
    expect(queue.sent).toHaveLength(1);
  });

  it('GIVEN a bad option THEN the rejection names it and nothing is enqueued', async () => {
    const reply = await imagine(deps, contextFor(alice), 'fox --ar 0:5');
    expect(reply).toEqual({ kind: 'rejected', code: 'invalid_options', message: expect.stringContaining('--ar 0:5') });
    expect(queue.sent).toHaveLength(0);
  });

  it('GIVEN a blocked prompt THEN it is refused with the reason and nothing is enqueued', async () => {
    const reply = await imagine(deps, contextFor(alice), 'G0RE everywhere');
    expect(reply).toMatchObject({ kind: 'rejected', code: 'blocked_prompt' });
    expect(queue.sent).toHaveLength(0);
  });

  it('GIVEN an age-restricted channel THEN the stricter words are allowed there only', async () => {
    expect(await imagine(deps, contextFor(alice), 'a nude statue')).toMatchObject({ kind: 'rejected' });
    expect(await imagine(deps, contextFor(alice, { channel: { ageRestricted: true } }), 'a nude statue')).toMatchObject({ kind: 'accepted' });
  });

  it('GIVEN a channel outside the allow-list THEN it is refused before parsing', async () => {
    deps.moderation = createModerationPolicy({ blocklist: [], allowedChannels: ['elsewhere'] });
    expect(await imagine(deps, contextFor(alice), 'fox --ar 0:5')).toMatchObject({ kind: 'rejected', code: 'channel_not_allowed' });
  });

  it('GIVEN the per-user cap is reached THEN the refusal says so', async () => {
    deps.maxPendingPerUser = 1;
    await imagine(deps, contextFor(alice), 'one');
    expect(await imagine(deps, contextFor(alice), 'two')).toMatchObject({ kind: 'rejected', code: 'too_many_pending', message: expect.stringContaining('limit is 1') });
  });

  it('GIVEN saved user and channel defaults THEN they fill options not given, and typed options win', async () => {
    const admin = contextFor(alice, { canManageChannel: true });
    expect(await settings(deps, admin, { scope: 'channel', options: '--ar 2:3 --chaos 50 --style anime' })).toMatchObject({ kind: 'done' });
    expect(await settings(deps, contextFor(alice), { scope: 'user', options: '--ar 16:9 --no text' })).toMatchObject({ kind: 'done' });
    await imagine(deps, contextFor(alice), 'a fox --chaos 5');
    expect(queue.sent[0]!.request).toMatchObject({ aspect: { w: 16, h: 9 }, negativePrompt: 'text', chaos: 5, style: 'anime' });
  });

  it('WHEN the saved defaults are still being read THEN the duplicate and cap checks are already asked (no extra round trip)', async () => {
    let releaseSettings!: () => void;
    const settingsHeld = new Promise<void>((resolve) => (releaseSettings = resolve));
    const asked: string[] = [];
    const store = blobs;
    deps.blobs = Object.assign(Object.create(store) as MemoryBlobStore, {
      get: async (key: string) => {
        asked.push(`get ${key}`);
        if (key.startsWith('settings/')) await settingsHeld;
        return store.get(key);
      },
      exists: async (key: string) => (asked.push(`exists ${key}`), store.exists(key)),
      list: async (prefix: string) => (asked.push(`list ${prefix}`), store.list(prefix)),
    });
    const reply = imagine(deps, contextFor(alice), 'a fox');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(asked.some((call) => call.startsWith('exists jobs/') && call.endsWith('/job.json'))).toBe(true);
    expect(asked.some((call) => call.startsWith('list pending/'))).toBe(true);
    expect(queue.sent).toHaveLength(0);
    releaseSettings();
    expect(await reply).toMatchObject({ kind: 'accepted', duplicate: false });
    expect(queue.sent).toHaveLength(1);
  });

  it('GIVEN admission checks made for another job id THEN submitJob refuses to use them and sends nothing', async () => {
    const ports = { queue, events: deps.events, blobs };
    const checks = checkAdmission(ports, 'jsomeoneelse', alice);
    await expect(submitJob(ports, makeJob({ id: 'jmine' }), checks)).rejects.toThrow(/admission checks for jsomeoneelse passed with job jmine/);
    expect(queue.sent).toHaveLength(0);
  });
});

describe('buttons', () => {
  it('GIVEN U2 THEN an upscale of tile 2 with that tile\'s seed is enqueued, linked to its parent', async () => {
    const reply = await pressButton(deps, contextFor(alice), `upscale:${parent.id}:2`);
    expect(reply).toMatchObject({ kind: 'accepted' });
    const child = queue.sent[0]!;
    expect(child).toMatchObject({ kind: 'upscale', parent: { jobId: parent.id, index: 2 } });
    expect(child.request.seed).toBe(1001);
    expect(child.request.prompt).toBe(parent.request.prompt);
  });

  it.each([
    ['vary_subtle', 'subtle'],
    ['vary_strong', 'strong'],
  ])('GIVEN %s on tile 3 THEN a %s variation with a new seed is enqueued', async (action, strength) => {
    await pressButton(deps, contextFor(alice), `${action}:${parent.id}:3`);
    expect(queue.sent[0]).toMatchObject({ kind: 'variation', strength, parent: { jobId: parent.id, index: 3 } });
    expect(queue.sent[0]!.request.seed).toBe(777);
  });

  it('GIVEN 🔄 THEN the same request with a new seed is enqueued as an imagine with a parent link', async () => {
    await pressButton(deps, contextFor(alice), `reroll:${parent.id}:0`);
    expect(queue.sent[0]).toMatchObject({ kind: 'imagine', parent: { jobId: parent.id } });
    expect({ ...queue.sent[0]!.request, seed: 0 }).toEqual({ ...parent.request, seed: 0 });
    expect(queue.sent[0]!.request.seed).not.toBe(parent.request.seed);
  });

  it('GIVEN remix with new text THEN its options win and the parent fills the rest', async () => {
    expect(await pressButton(deps, contextFor(alice), `remix:${parent.id}:1`)).toMatchObject({ kind: 'rejected', code: 'needs_text' });
    await pressButton(deps, contextFor(alice), `remix:${parent.id}:1`, 'a lighthouse at dawn --chaos 30');
    expect(queue.sent[0]).toMatchObject({ kind: 'variation', strength: 'strong', request: { prompt: 'a lighthouse at dawn', chaos: 30, aspect: { w: 3, h: 2 } } });
  });

  it('GIVEN a tampered custom id THEN a specific rejection and nothing enqueued', async () => {
    expect(await pressButton(deps, contextFor(alice), `upscale:${parent.id}:7`)).toMatchObject({ kind: 'rejected', code: 'invalid_button_id' });
    expect(await pressButton(deps, contextFor(alice), 'upscale:jnothere:1')).toMatchObject({ kind: 'rejected', code: 'not_found' });
    expect(queue.sent).toHaveLength(0);
  });

  it('GIVEN a button on a job that has not finished THEN upscale explains and enqueues nothing', async () => {
    const running = makeJob({ id: 'jrunning' });
    storeJob(blobs, running);
    expect(await pressButton(deps, contextFor(alice), 'upscale:jrunning:1')).toMatchObject({ kind: 'rejected', message: expect.stringContaining('not finished') });
  });

  it('GIVEN another user in a requester-only channel THEN U/V/🔄 are refused but ℹ️ works', async () => {
    expect(await pressButton(deps, contextFor(bob), `upscale:${parent.id}:1`)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await pressButton(deps, contextFor(bob), `reroll:${parent.id}:0`)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await pressButton(deps, contextFor(bob), `info:${parent.id}:0`)).toMatchObject({ kind: 'info' });
    expect(queue.sent).toHaveLength(0);
  });

  it('GIVEN a channel where everyone may press THEN another user may vary, and the child belongs to the presser', async () => {
    await writeChannelSettings(blobs, 'discord', 'c1', { v: 1, defaults: {}, buttons: 'everyone' });
    expect(await pressButton(deps, contextFor(bob), `vary_subtle:${parent.id}:1`)).toMatchObject({ kind: 'accepted' });
    expect(queue.sent[0]!.requester.userId).toBe('bob');
  });

  it('GIVEN 🗑️ by someone else even where everyone may press THEN it is refused and nothing is deleted', async () => {
    await writeChannelSettings(blobs, 'discord', 'c1', { v: 1, defaults: {}, buttons: 'everyone' });
    expect(await pressButton(deps, contextFor(bob), `delete:${parent.id}:0`)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await blobs.exists(jobKeys.result(parent.id))).toBe(true);
  });

  it('GIVEN 🗑️ by the owner THEN every stored object of the job is deleted, a marker left, and old buttons say so', async () => {
    await blobs.put(jobKeys.image(parent.id, 1), new Uint8Array([1]), 'image/png');
    const reply = await pressButton(deps, contextFor(alice), `delete:${parent.id}:0`);
    expect(reply).toMatchObject({ kind: 'done', action: 'deleted', jobId: parent.id });
    expect(await blobs.list(jobKeys.prefix(parent.id))).toEqual([jobKeys.deleted(parent.id)]);
    expect(await pressButton(deps, contextFor(alice), `upscale:${parent.id}:1`)).toMatchObject({ kind: 'rejected', message: expect.stringContaining('deleted') });
  });

  it('GIVEN ℹ️ THEN prompt, reproduce line, seed and job id are copyable', async () => {
    const reply = await pressButton(deps, contextFor(alice), `info:${parent.id}:0`);
    expect(reply).toMatchObject({ kind: 'info' });
    if (reply.kind !== 'info') return;
    expect(reply.copyable).toEqual([
      { label: 'Prompt', value: 'a lighthouse in a storm' },
      { label: 'Reproduce', value: 'a lighthouse in a storm --ar 3:2 --seed 42' },
      { label: 'Seed', value: '42' },
      { label: 'Job id', value: parent.id },
    ]);
    expect(reply.lines).toContain('Seeds: 1: 1000, 2: 1001, 3: 1002, 4: 1003');
  });
});

describe('cancel, show, usage, settings', () => {
  async function pendingJob(): Promise<Job> {
    const reply = await imagine(deps, contextFor(alice), 'a slow fox');
    if (reply.kind !== 'accepted') throw new Error('not accepted');
    return queue.sent.find((job) => job.id === reply.jobId)!;
  }

  it('GIVEN /cancel without a job THEN the newest job in progress gets a cancel request', async () => {
    const job = await pendingJob();
    expect(await cancel(deps, contextFor(alice))).toMatchObject({ kind: 'done', action: 'cancelled', jobId: job.id });
    expect(blobs.json(jobKeys.cancel(job.id))).toMatchObject({ v: 1, by: 'discord:alice' });
  });

  it('GIVEN /cancel by someone else or of a finished job THEN it is refused', async () => {
    const job = await pendingJob();
    expect(await cancel(deps, contextFor(bob), job.id)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await cancel(deps, contextFor(alice), parent.id)).toMatchObject({ kind: 'rejected', code: 'already_finished' });
    expect(await cancel(deps, contextFor(bob))).toMatchObject({ kind: 'rejected', code: 'not_found' });
  });

  it('GIVEN /show of a finished job THEN the completed message and the grid bytes come back', async () => {
    const reply = await show(deps, contextFor(bob), ` ${parent.id.toUpperCase()} `, 1024);
    expect(reply).toMatchObject({ kind: 'show', jobId: parent.id, message: { status: 'completed' }, attachment: { contentType: 'image/png' } });
  });

  it('GIVEN /show of a playground job (its result has no grid image) THEN a specific refusal, not a missing file', async () => {
    const playground = makeJob({ id: 'jplayground' });
    const { grid: _grid, ...withoutGrid } = makeResult(playground);
    storeJob(blobs, playground, withoutGrid);
    expect(await show(deps, contextFor(alice), playground.id, 1024)).toMatchObject({ kind: 'rejected', code: 'no_grid', message: expect.stringContaining('web playground') });
  });

  it('GIVEN /show of a job from another workspace, a bad id, or an unfinished job THEN specific refusals', async () => {
    expect(await show(deps, contextFor({ ...bob, workspaceId: 'g9' }), parent.id, 1024)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await show(deps, contextFor(bob), '../../etc', 1024)).toMatchObject({ kind: 'rejected', code: 'invalid_job_id' });
    const job = await pendingJob();
    expect(await show(deps, contextFor(alice), job.id, 1024)).toMatchObject({ kind: 'rejected', code: 'not_finished' });
  });

  it('GIVEN /info THEN the jobs in progress and the limit are listed', async () => {
    const job = await pendingJob();
    const reply = await usage(deps, contextFor(alice));
    expect(reply.lines[0]).toBe('In progress: 1 of 3 allowed at once');
    expect(reply.copyable).toEqual([{ label: 'Job in progress', value: job.id }]);
    expect(await blobs.exists(pendingKeys.marker(job))).toBe(true);
  });

  it('GIVEN channel settings by a non-manager THEN refused; a seed default THEN refused; bad options THEN named', async () => {
    expect(await settings(deps, contextFor(alice), { scope: 'channel', buttons: 'everyone' })).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await settings(deps, contextFor(alice), { scope: 'user', options: '--seed 4' })).toMatchObject({ kind: 'rejected', code: 'invalid_settings' });
    expect(await settings(deps, contextFor(alice), { scope: 'user', options: '--style nope' })).toMatchObject({ kind: 'rejected', code: 'invalid_options', message: expect.stringContaining('--style nope') });
  });

  it('GIVEN saved settings THEN showing them lists them, and reset forgets them', async () => {
    await settings(deps, contextFor(alice), { scope: 'user', options: '--ar 16:9 --lite' });
    expect(await settings(deps, contextFor(alice), { scope: 'user' })).toMatchObject({ kind: 'info', lines: ['Defaults: --ar 16:9 --lite'] });
    await settings(deps, contextFor(alice), { scope: 'user', reset: true });
    expect(await settings(deps, contextFor(alice), { scope: 'user' })).toMatchObject({ kind: 'info', lines: ['Defaults: (none)'] });
  });

  it('GIVEN a corrupt settings record THEN imagine still works with built-in defaults', async () => {
    blobs.objects.set('settings/channels/discord/c1.json', new TextEncoder().encode('{nope'));
    expect(await imagine(deps, contextFor(alice), 'a fox')).toMatchObject({ kind: 'accepted' });
    expect(queue.sent[0]!.request.aspect).toEqual({ w: 1, h: 1 });
  });

  it('GIVEN jobInfo of a missing job THEN not_found', async () => {
    expect(await jobInfo(deps, 'jmissing')).toMatchObject({ kind: 'rejected', code: 'not_found' });
  });
});
