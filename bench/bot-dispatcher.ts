/**
 * The dispatcher's own cost, without network: N jobs × (queued, started, 20 progress, completed)
 * folded through the real Dispatcher with in-memory ports and a poster that only counts. Shows how
 * many events per second one process folds, how many edits throttling leaves (coalescing ratio),
 * the time from a `completed` being handed in to its delivery, and buildJobMessage alone.
 * Prints figures; asserts nothing.
 *
 *   node bench/bot-dispatcher.ts [jobs]
 */
import { performance } from 'node:perf_hooks';
import { type Job, type JobEvent } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import type { ReceivedEvent } from '../core/ports.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import { buildJobMessage } from '../bot/message-model.ts';
import type { JobMessage } from '../bot/message-model.ts';
import type { Poster } from '../bot/poster.ts';
import { MemoryBlobStore, MemoryEventBus } from '../test/bot/support/memory-ports.ts';
import { makeJob, makeResult, storeJob } from '../test/bot/support/fixtures.ts';
import { quantile } from './percentiles.ts';

const JOBS = Number(process.argv[2] ?? 200);
const PROGRESS = 20;

async function main(): Promise<void> {
  const blobs = new MemoryBlobStore();
  const events = new MemoryEventBus();
  const completedAt = new Map<string, number>();
  const latency: number[] = [];
  let edits = 0;
  const poster: Poster = {
    platform: 'web',
    attachmentLimitBytes: () => 10 * 1024 * 1024,
    async deliver(job: Job, message: JobMessage) {
      edits++;
      if (message.status === 'completed') latency.push(performance.now() - completedAt.get(job.id)!);
    },
  };
  // 10 channels: the per-channel edit spacing applies as in a busy server.
  const jobs = Array.from({ length: JOBS }, (_, i) => makeJob({ id: `jbench${i}`, requester: { platform: 'web', userId: `u${i}`, channelId: `c${i % 10}` } }));
  for (const job of jobs) {
    storeJob(blobs, job, makeResult(job));
    await blobs.put(jobKeys.grid(job.id), new Uint8Array(64 * 1024), 'image/png');
  }
  const dispatcher = new Dispatcher({ events, blobs, posters: { web: poster } });
  let receipt = 0;
  const wrap = (event: JobEvent): ReceivedEvent => ({ receiptHandle: `r${receipt++}`, event });

  const started = performance.now();
  let folded = 0;
  for (const job of jobs) {
    const at = Date.now();
    const batch: JobEvent[] = [
      { v: 1, jobId: job.id, at, type: 'queued', position: 1 },
      { v: 1, jobId: job.id, at, type: 'started', runnerId: 'r', attempt: 1 },
      ...Array.from({ length: PROGRESS }, (_, step): JobEvent => ({ v: 1, jobId: job.id, at, type: 'progress', stage: 'prior', step, steps: PROGRESS, fraction: (step + 1) / (PROGRESS + 1) })),
    ];
    await dispatcher.handleBatch(batch.map(wrap));
    completedAt.set(job.id, performance.now());
    await dispatcher.handleBatch([wrap({ v: 1, jobId: job.id, at, type: 'completed', resultKey: jobKeys.result(job.id) })]);
    folded += batch.length + 1;
  }
  await dispatcher.idle();
  const elapsed = performance.now() - started;

  const renderSamples: number[] = [];
  const sample = jobs[0]!;
  const result = makeResult(sample);
  for (let i = 0; i < 20_000; i++) {
    const t0 = performance.now();
    buildJobMessage(sample, { phase: 'completed', result, updatedAt: 0 });
    renderSamples.push(performance.now() - t0);
  }

  console.log(`jobs ${JOBS}, events folded ${folded} in ${elapsed.toFixed(0)} ms → ${((folded / elapsed) * 1000).toFixed(0)} events/s`);
  console.log(`edits sent ${edits} for ${folded} events → coalescing ratio ${(folded / edits).toFixed(1)} events per edit`);
  console.log(`completed → delivered: p50 ${quantile(latency, 0.5).toFixed(3)} ms, p99 ${quantile(latency, 0.99).toFixed(3)} ms (n=${latency.length})`);
  console.log(`buildJobMessage (completed grid): p50 ${(quantile(renderSamples, 0.5) * 1000).toFixed(1)} µs, p99 ${(quantile(renderSamples, 0.99) * 1000).toFixed(1)} µs`);
  console.log(`acks ${events.acked.length} of ${folded} events`);
}

await main();
