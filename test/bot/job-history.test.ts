import { beforeEach, describe, expect, it } from 'vitest';
import { jobKeys } from '../../core/storage-layout.ts';
import { listChildren, listJobs, loadJobSnapshot, loadLineage } from '../../bot/job-history.ts';
import { markDelivered } from '../../bot/job-records.ts';
import { buildJobMessage } from '../../bot/message-model.ts';
import { MemoryBlobStore } from './support/memory-ports.ts';
import { makeJob, makeResult, storeJob } from './support/fixtures.ts';

const root = makeJob({ id: 'jroot', createdAt: '2026-11-26T10:00:00.000Z' });
const upscale = makeJob({ id: 'jup', kind: 'upscale', parent: { jobId: 'jroot', index: 2 }, createdAt: '2026-11-26T10:02:00.000Z' });
const variation = makeJob({ id: 'jvar', kind: 'variation', strength: 'subtle', parent: { jobId: 'jup', index: 1 }, createdAt: '2026-11-26T10:03:00.000Z' });
const failed = makeJob({ id: 'jfailed', createdAt: '2026-11-26T10:01:00.000Z', requester: { platform: 'web', userId: 'other', channelId: 'p' } });

describe('job history from the store', () => {
  let blobs: MemoryBlobStore;
  beforeEach(async () => {
    blobs = new MemoryBlobStore();
    storeJob(blobs, root, makeResult(root));
    storeJob(blobs, upscale);
    storeJob(blobs, variation);
    storeJob(blobs, failed);
    await markDelivered(blobs, 'jfailed', { v: 1, phase: 'failed', at: 5, failure: { code: 'model_error', reason: 'The model ran out of memory.' } });
    blobs.objects.set('jobs/jbroken/job.json', new TextEncoder().encode('{'));
  });

  it('GIVEN stored records THEN snapshots say completed (with the grid), failed (with the reason) or in progress', async () => {
    const done = (await loadJobSnapshot(blobs, 'jroot'))!;
    expect(buildJobMessage(done.job, done.state)).toMatchObject({ status: 'completed', grid: { key: jobKeys.grid('jroot') } });
    const bad = (await loadJobSnapshot(blobs, 'jfailed'))!;
    expect(buildJobMessage(bad.job, bad.state).statusLine).toBe('Failed: The model ran out of memory.');
    expect((await loadJobSnapshot(blobs, 'jup'))!.state.phase).toBe('queued');
    expect(await loadJobSnapshot(blobs, 'jnothing')).toBeNull();
  });

  it('GIVEN a deleted job THEN there is no snapshot', async () => {
    await blobs.put(jobKeys.deleted('jroot'), '{}', 'application/json');
    expect(await loadJobSnapshot(blobs, 'jroot')).toBeNull();
  });

  it('GIVEN several jobs and one unreadable record THEN the gallery lists the readable ones newest first, filtered and limited', async () => {
    expect((await listJobs(blobs)).map((job) => job.id)).toEqual(['jvar', 'jup', 'jfailed', 'jroot']);
    expect((await listJobs(blobs, { filter: (job) => job.requester.userId === 'alice', limit: 2 })).map((job) => job.id)).toEqual(['jvar', 'jup']);
  });

  it('GIVEN a variation of an upscale THEN its lineage goes back to the original imagine, and children are found', async () => {
    expect((await loadLineage(blobs, 'jvar')).map((job) => job.id)).toEqual(['jvar', 'jup', 'jroot']);
    expect((await listChildren(blobs, 'jroot')).map((job) => job.id)).toEqual(['jup']);
  });

  it('GIVEN an ancestor that is no longer stored THEN the lineage stops there', async () => {
    await blobs.delete([jobKeys.job('jup')]);
    expect((await loadLineage(blobs, 'jvar')).map((job) => job.id)).toEqual(['jvar']);
  });
});
