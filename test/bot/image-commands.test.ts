/** /imagine with pictures, /blend and 🧬 "More like this" through the platform-neutral commands (memory ports). */
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobSchema } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { blend, imagine, jobInfo, pressButton } from '../../bot/commands/index.ts';
import { renderActorReply } from '../../bot/discord/replies.ts';
import { renderInfo } from '../../bot/slack/replies.ts';
import type { InfoReply } from '../../bot/commands/context.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { buildJobMessage } from '../../bot/message-model.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { MemoryBlobStore, MemoryEventBus, MemoryJobQueue } from './support/memory-ports.ts';
import { alice, contextFor, makeJob, makeResult, storeJob } from './support/fixtures.ts';

let blobs: MemoryBlobStore;
let queue: MemoryJobQueue;
let deps: BotDeps;
const picture = async (colour: string) => new Uint8Array(await sharp({ create: { width: 90, height: 60, channels: 3, background: colour } }).jpeg().toBuffer());

beforeEach(() => {
  blobs = new MemoryBlobStore();
  queue = new MemoryJobQueue();
  deps = { queue, events: new MemoryEventBus(), blobs, moderation: createModerationPolicy({ blocklist: [], restrictedOnly: [] }), randomSeed: () => 42, now: () => Date.parse('2026-12-07T10:00:00Z') };
});

describe('GIVEN pictures with a command', () => {
  it('WHEN /imagine has two attachments and --iw 0.5 THEN both are stored as PNGs under the job and weigh 0.5', async () => {
    const reply = await imagine(deps, contextFor(alice, { sourceId: 'd:77' }), 'a castle --iw 0.5', {}, undefined, [await picture('#f00'), await picture('#00f')]);
    expect(reply).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job.request.imagePrompts).toEqual([
      { key: jobKeys.input(job.id, 0), weight: 0.5 },
      { key: jobKeys.input(job.id, 1), weight: 0.5 },
    ]);
    const stored = await blobs.get(jobKeys.input(job.id, 1));
    expect((await sharp(stored!).metadata()).format).toBe('png');
    expect((await jobInfo(deps, job.id) as { lines: string[] }).lines).toContain(`Image prompts: ${jobKeys.input(job.id, 0)} (weight 0.5), ${jobKeys.input(job.id, 1)} (weight 0.5)`);
  });

  it('WHEN ℹ️ is asked for a job with a start image and an image prompt THEN its pictures come with their strength and weight, linked for the owner and the channel only', async () => {
    await imagine(deps, contextFor(alice, { sourceId: 'd:info' }), 'a castle --strength 0.6 --iw 0.5', {}, undefined, [await picture('#f00'), await picture('#00f')]);
    const job = JobSchema.parse(queue.sent[0]);
    const labels = [{ key: jobKeys.input(job.id, 0), label: 'Picture 1 · start image, strength 0.6' }, { key: jobKeys.input(job.id, 1), label: 'Picture 2 · image prompt, weight 0.5' }];
    const linked = labels.map((p) => ({ ...p, url: `memory://${p.key}` }));
    const bobHere = { ...alice, userId: 'bob' };
    expect((await jobInfo(deps, job.id, { asker: bobHere, links: 'signed' }) as InfoReply).pictures).toEqual(linked);
    expect((await jobInfo(deps, job.id, { asker: { ...alice, channelId: 'elsewhere' }, links: 'signed' }) as InfoReply).pictures).toEqual(linked); // the owner anywhere
    expect((await jobInfo(deps, job.id, { asker: { ...bobHere, channelId: 'elsewhere' }, links: 'signed' }) as InfoReply).pictures).toEqual(labels); // /info <id> from another channel: no links
    expect((await jobInfo(deps, job.id, { asker: { ...bobHere, platform: 'slack' }, links: 'signed' }) as InfoReply).pictures).toEqual(labels);
    expect((await jobInfo(deps, job.id, { asker: bobHere, links: 'by-key' }) as InfoReply).pictures).toEqual(labels);

    const reply = (await pressButton(deps, contextFor(bobHere), `info:${job.id}:0`)) as InfoReply;
    expect(reply.pictures).toEqual(linked);
    const discord = renderActorReply(reply);
    expect(discord.embeds!.slice(1)).toEqual(linked.map((p) => ({ title: p.label, url: p.url, thumbnail: { url: p.url } })));
    const slack = renderInfo(reply);
    expect(slack.blocks.filter((b) => b.type === 'image')).toEqual(linked.map((p, i) => ({ type: 'image', block_id: `picture:${i}`, image_url: p.url, alt_text: p.label, title: { type: 'plain_text', text: p.label, emoji: true } })));
    expect(renderInfo({ ...reply, pictures: labels }).blocks.some((b) => b.type === 'image')).toBe(false);
    expect(renderActorReply({ ...reply, pictures: labels }).embeds).toHaveLength(1);
    expect(renderActorReply({ ...reply, pictures: [linked[0]!, { ...linked[1]!, url: `https://s3/${'x'.repeat(2100)}` }] }).embeds).toHaveLength(2);
    // The job's own message (all three front ends) carries the same settings as a lineage line.
    expect(buildJobMessage(job, { phase: 'queued', updatedAt: 0 }).lines).toContain('From pictures: 1 start image, strength 0.6 · 2 image prompt, weight 0.5');
    expect(buildJobMessage(makeJob(), { phase: 'queued', updatedAt: 0 }).lines.some((line) => line.startsWith('From pictures'))).toBe(false);
  });

  it('WHEN /imagine has a picture and no text THEN it is a pure image variation; without a picture the prompt is required', async () => {
    expect(await imagine(deps, contextFor(alice), '--ar 3:2', {}, undefined, [await picture('#0f0')])).toMatchObject({ kind: 'accepted' });
    expect(queue.sent[0]!.request).toMatchObject({ prompt: '', aspect: { w: 3, h: 2 } });
    expect(await imagine(deps, contextFor(alice, { sourceId: 'd:2' }), '--ar 3:2')).toMatchObject({ kind: 'rejected', code: 'invalid_options' });
  });

  it('WHEN the same request is replayed with another picture THEN it names the same job and the stored picture stays the first', async () => {
    const first = await imagine(deps, contextFor(alice, { sourceId: 'd:replay' }), 'a castle', {}, undefined, [await picture('#f00')]);
    const again = await imagine(deps, contextFor(alice, { sourceId: 'd:replay' }), 'a castle', {}, undefined, [await picture('#00f')]);
    expect(again).toMatchObject({ kind: 'accepted', duplicate: true, jobId: (first as { jobId: string }).jobId });
    const { channels } = await sharp((await blobs.get(jobKeys.input((first as { jobId: string }).jobId, 0)))!).stats();
    expect(channels[0]!.mean).toBeGreaterThan(200); // red, the first picture, not the replay's blue
    expect(channels[2]!.mean).toBeLessThan(50);
    expect(queue.sent).toHaveLength(1);
  });

  it('WHEN /blend gets three pictures and portrait THEN one job with three image prompts of weight 1 and no text', async () => {
    const reply = await blend(deps, contextFor(alice), [await picture('#f00'), await picture('#0f0'), await picture('#00f')], 'portrait');
    expect(reply).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job.request).toMatchObject({ prompt: '', aspect: { w: 2, h: 3 }, seed: 42, count: 4 });
    expect(job.request.imagePrompts!.map((p) => p.weight)).toEqual([1, 1, 1]);
  });
});

describe('GIVEN pictures with --strength (image-to-image)', () => {
  const wide = async () => new Uint8Array(await sharp({ create: { width: 320, height: 180, channels: 3, background: '#0a0' } }).png().toBuffer());

  it('WHEN one picture comes with --strength 0.6 THEN it is the start image, not an image prompt, and the job keeps its 16:9 shape', async () => {
    const reply = await imagine(deps, contextFor(alice, { sourceId: 'd:s1' }), 'a castle at dawn --strength 0.6', {}, undefined, [await wide()]);
    expect(reply).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job.request.initImage).toEqual({ key: jobKeys.input(job.id, 0), strength: 0.6 });
    expect(job.request.imagePrompts).toBeUndefined();
    expect(job.request.aspect).toEqual({ w: 16, h: 9 });
    expect((await jobInfo(deps, job.id) as { lines: string[] }).lines).toContain(`Starts from: ${jobKeys.input(job.id, 0)} (strength 0.6)`);
  });

  it('WHEN two pictures, --strength, --iw and --ar are given THEN the first starts, the second is the weighted image prompt, and the typed --ar wins', async () => {
    const reply = await imagine(deps, contextFor(alice, { sourceId: 'd:s2' }), 'fox --strength 0.35 --iw 2 --ar 1:1', {}, undefined, [await wide(), await picture('#00f')]);
    expect(reply).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job.request.initImage).toEqual({ key: jobKeys.input(job.id, 0), strength: 0.35 });
    expect(job.request.imagePrompts).toEqual([{ key: jobKeys.input(job.id, 1), weight: 2 }]);
    expect(job.request.aspect).toEqual({ w: 1, h: 1 });
  });

  it('WHEN --strength is out of range, has no picture, or leaves --iw nothing to weigh THEN each is refused with its own sentence and nothing is stored', async () => {
    const cases: Array<[string, Uint8Array[], string]> = [
      ['fox --strength 0', [await wide()], '--strength 0: must be a number above 0 and at most 1'],
      ['fox --strength 1.5', [await wide()], '--strength 1.5: must be a number above 0 and at most 1'],
      ['fox --strength 0.5', [], '--strength starts from a picture (image-to-image): attach one to the command'],
      ['fox --strength 0.5 --iw 2', [await wide()], 'with --strength the only picture is the start image'],
    ];
    for (const [n, [text, pictures, message]] of cases.entries()) {
      const reply = await imagine(deps, contextFor(alice, { sourceId: `d:bad${n}` }), text, {}, undefined, pictures);
      expect(reply).toMatchObject({ kind: 'rejected', code: 'invalid_options', message: expect.stringContaining(message) });
    }
    expect(queue.sent).toHaveLength(0);
    expect(await blobs.list('jobs/')).toEqual([]);
  });

  it('WHEN 🧬 is pressed on an image-to-image result THEN the new job has no start image and no --strength', async () => {
    const parent = makeJob({ request: { ...makeJob().request, imageStrength: 0.5, initImage: { key: 'jobs/jabc/inputs/0.png', strength: 0.5 } } });
    storeJob(blobs, parent, { ...makeResult(parent), model: { name: 'demo', variant: 'demo', imagePrompts: true } });
    expect(await pressButton(deps, contextFor(alice, { sourceId: 'd:more2' }), `more:${parent.id}:1`)).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job.request.initImage).toBeUndefined();
    expect(job.request.imageStrength).toBeUndefined();
  });
});

describe('GIVEN a finished grid', () => {
  it('WHEN 🧬 is pressed on tile 3 THEN four new images are asked with that tile (by key, no upload) as the image prompt', async () => {
    const parent = makeJob({ request: { ...makeJob().request, imageWeight: 2 } });
    storeJob(blobs, parent, { ...makeResult(parent), model: { name: 'demo', variant: 'demo', imagePrompts: true } });
    const reply = await pressButton(deps, contextFor(alice, { sourceId: 'd:more' }), `more:${parent.id}:3`);
    expect(reply).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse(queue.sent[0]);
    expect(job).toMatchObject({ kind: 'imagine', parent: { jobId: parent.id, index: 3 } });
    expect(job.request).toMatchObject({ prompt: '', count: 4, imagePrompts: [{ key: jobKeys.image(parent.id, 3), weight: 1 }] });
    expect(job.request.imageWeight).toBeUndefined();
    expect((await blobs.list(jobKeys.prefix(job.id))).some((key) => key.includes('/inputs/'))).toBe(false);
    expect(buildJobMessage(job, { phase: 'queued', updatedAt: 0 }).lines).toContain(`More like tile 3 of job ${parent.id}`);
  });

  it('THEN the 🧬 row is offered only when the model reads image prompts', () => {
    const job = makeJob();
    const rows = (imagePrompts: boolean) =>
      buildJobMessage(job, { phase: 'completed', updatedAt: 0, result: { ...makeResult(job), model: { name: 'm', variant: 'v', ...(imagePrompts ? { imagePrompts } : {}) } } }).buttonRows.map((row) => row.kind);
    expect(rows(true)).toContain('more');
    expect(rows(false)).not.toContain('more');
    const more = buildJobMessage(job, { phase: 'completed', updatedAt: 0, result: { ...makeResult(job), model: { name: 'm', variant: 'v', imagePrompts: true } } }).buttonRows.find((row) => row.kind === "more")!;
    expect(more.buttons.map((b) => [b.emoji, b.label, b.customId])).toEqual([1, 2, 3, 4].map((t) => ['🧬', `${t}`, `more:${job.id}:${t}`]));
  });
});
