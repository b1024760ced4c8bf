/**
 * Runner memory under a long queue (issue #18, item 9): the production runner in a child process
 * (cascade engine on the CPU, production Node flags + --expose-gc), N jobs through the emulator, and
 * after every `every` completed jobs the child's RSS and heap as they are, then RSS, heap, external and
 * array-buffer bytes after a full collection.
 * Growth that survives gc() and keeps rising per job is a leak; a plateau is a cache filling up.
 * Prints one line per sample and the slope over the second half (KB per job); asserts nothing.
 *
 * Measured (2 shared cores, 2026-12-07; `1000 100 models/demo 1`, size small): RSS 204 MB at start, 409 after
 * 100 jobs, 437 / 442 / 446 / 447 / 447 / 453 / 470 / 468 MB at 200 … 1000; the JS heap after gc 22 → 27 MB in the
 * first 100 jobs, then 24.5–25.2 MB to the end (0.4 KB/job over jobs 500–1000: no per-job JS state is kept), RSS
 * 44 KB/job over 500–1000. The rise is native and front-loaded (onnxruntime's working memory and the allocator's
 * retained pages reaching their high-water mark), not a leak. With the CPU arena off (`enableCpuMemArena: false`)
 * RSS was far higher (735 MB after 50 jobs); MALLOC_ARENA_MAX=2 and glibc.malloc.mmap_threshold=131072 gave the
 * same curve as the default over 100–125 jobs. The tiny bundle plateaus at ≈ 365 MB by job 100 (300 jobs).
 *
 *   nice node bench/runner-memory.ts [jobs=1000] [every=100] [modelDir=test/fixtures/cascade-tiny] [steps]
 * (steps: fewer sampler steps per job, same tensor shapes: a long run in less time.) The child inherits
 * the environment, so e.g. MALLOC_ARENA_MAX=2 can be compared.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobEvent } from '../core/job.ts';
import { submitJob } from '../bot/submit.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { imagineJob } from '../test/runner/fixtures.ts';
import { FAST_RUNNER_ENV } from '../test/runner/harness.ts';
import { RUNNER_NODE_FLAGS } from '../gpu-runner/node-flags.ts';

const JOBS = Number(process.argv[2] ?? 1000);
const EVERY = Number(process.argv[3] ?? 100);
const MODEL_DIR = process.argv[4] ?? fileURLToPath(new URL('../test/fixtures/cascade-tiny', import.meta.url));
const STEPS = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
const MB = 1024 * 1024;

interface Sample { label: string; rssBeforeGc: number; heapBeforeGc: number; rss: number; heapUsed: number; external: number; arrayBuffers: number }

const emulator = await startTestEmulator({ visibilitySeconds: 60, maxReceives: 5 });
const child = fork(fileURLToPath(new URL('./support/runner-memory-child.ts', import.meta.url)), [], {
  execArgv: [...RUNNER_NODE_FLAGS, '--expose-gc'],
  env: { ...process.env, ...emulator.env(), ...FAST_RUNNER_ENV, JOB_VISIBILITY_SECONDS: '60', MODEL_DIR, LOG_LEVEL: 'error', RUNNER_ID: 'memory-bench' },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const replies: Array<(sample: Sample) => void> = [];
await new Promise<void>((ready) => child.on('message', (message: { type: string } & Sample) => {
  if (message.type === 'ready') ready();
  if (message.type === 'sample') replies.shift()?.(message);
}));
const sample = (label: string) => new Promise<Sample>((resolve) => {
  replies.push(resolve);
  child.send({ type: 'sample', label });
});

const samples: Array<Sample & { jobs: number }> = [];
const print = (s: Sample & { jobs: number }) => console.log(`${String(s.jobs).padStart(5)} jobs  before gc: rss ${(s.rssBeforeGc / MB).toFixed(1).padStart(6)} MB heap ${(s.heapBeforeGc / MB).toFixed(1).padStart(6)} MB | after: rss ${(s.rss / MB).toFixed(1).padStart(6)} MB  heap ${(s.heapUsed / MB).toFixed(1).padStart(6)} MB  external ${(s.external / MB).toFixed(1).padStart(6)} MB  arrayBuffers ${(s.arrayBuffers / MB).toFixed(1).padStart(6)} MB`);
const first = { ...(await sample('start')), jobs: 0 };
samples.push(first);
print(first);

let completed = 0;
const started = Date.now();
// Submitted in windows so the queue stays non-empty but the emulator's store does not balloon first.
for (let submitted = 0; submitted < JOBS; ) {
  const window = Math.min(EVERY, JOBS - submitted);
  const ids = new Set<string>();
  for (let i = 0; i < window; i += 1, submitted += 1) {
    const job = imagineJob({ userId: `memory-${submitted % 20}`, prompt: `a small red house number ${submitted} 🏠`, seed: submitted });
    job.request.size = 'small';
    if (STEPS !== undefined) job.request.steps = STEPS;
    await submitJob({ ...emulator.ports, maxPendingPerUser: JOBS }, job);
    ids.add(job.id);
  }
  while (ids.size > 0) {
    for (const received of await emulator.ports.events.receive({ waitSeconds: 1, max: 10 })) {
      const event: JobEvent | undefined = received.event;
      if (event && (event.type === 'completed' || (event.type === 'failed' && !event.willRetry)) && ids.delete(event.jobId)) completed += 1;
      await emulator.ports.events.ack(received.receiptHandle);
    }
  }
  // The emulator keeps every object in memory; drop this window's so only the runner is measured over a long run.
  await emulator.ports.blobs.delete(await emulator.ports.blobs.list('jobs/'));
  const s = { ...(await sample(`after ${completed}`)), jobs: completed };
  samples.push(s);
  print(s);
}
const half = samples[Math.floor(samples.length / 2)]!;
const last = samples.at(-1)!;
const slope = (key: keyof Sample) => (((last[key] as number) - (half[key] as number)) / Math.max(1, last.jobs - half.jobs) / 1024).toFixed(1);
console.log(`\n${completed} jobs in ${((Date.now() - started) / 1000).toFixed(0)} s; slope over jobs ${half.jobs}–${last.jobs}: rss ${slope('rss')} KB/job (before gc ${slope('rssBeforeGc')}), heap ${slope('heapUsed')} KB/job, external ${slope('external')} KB/job`);
child.disconnect();
await new Promise((resolve) => child.once('exit', resolve));
await emulator.stop();
