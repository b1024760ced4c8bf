/**
 * Queue and runner overhead on loopback (fauxqs over HTTP, real AWS SDK):
 *   1. enqueue → receive latency of the jobs queue with a consumer already long-polling;
 *   2. per-job overhead of the whole pipeline (submit → runner → S3 → completed event) with a
 *      generator that costs ~0 ms, at 128² and 1024² tiles (PNG encoding and uploads included);
 *   3. an idle runner process: CPU and memory while it long-polls an empty queue.
 * Prints figures; asserts nothing. Run: node bench/queue-latency.ts [--jobs N]
 */
import { readFileSync } from 'node:fs';
import { quantile } from './percentiles.ts';
import { submitJob } from '../bot/submit.ts';
import type { JobEvent } from '../core/job.ts';
import { startTestEmulator, collectEvents, type TestEmulator } from '../test/support/emulator.ts';
import { TestGenerator } from '../test/support/test-generator.ts';
import { imagineJob } from '../test/runner/fixtures.ts';
import { spawnRunner, startTestRunner } from '../test/runner/harness.ts';

const jobsArg = process.argv.indexOf('--jobs');
const JOBS = jobsArg > 0 ? Number(process.argv[jobsArg + 1]) : 30;

const fmt = (values: number[]) => `p50 ${quantile(values, 0.5).toFixed(1)} ms, p99 ${quantile(values, 0.99).toFixed(1)} ms, mean ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)} ms (n=${values.length})`;

async function enqueueToReceive(emulator: TestEmulator, samples: number): Promise<number[]> {
  const { queue } = emulator.ports;
  const latencies: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const job = imagineJob({ userId: `lat-${i % 4}` });
    const receiving = queue.receive({ waitSeconds: 5 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // the consumer is parked in its long poll
    const sentAt = performance.now();
    await queue.send(job);
    const received = await receiving;
    latencies.push(performance.now() - sentAt);
    if (received) await queue.delete(received.receiptHandle);
  }
  return latencies;
}

async function pipelineOverhead(baseResolution: number, jobs: number): Promise<{ total: number[]; outside: number[]; submit: number[]; store: number[] }> {
  const emulator = await startTestEmulator();
  const generator = new TestGenerator({ baseResolution, steps: 1 });
  const runner = await startTestRunner({ ...emulator.env(), POLL_WAIT_SECONDS: '2' }, generator);
  const total: number[] = [];
  const outside: number[] = [];
  const submit: number[] = [];
  const store: number[] = [];
  try {
    for (let i = 0; i < jobs; i += 1) {
      const job = imagineJob({ userId: `bench-${i}` });
      const startedAt = performance.now();
      await submitJob(emulator.ports, job);
      submit.push(performance.now() - startedAt);
      await collectEvents(emulator.ports, (all: JobEvent[]) => all.some((e) => e.jobId === job.id && e.type === 'completed'), 60_000, []);
      const elapsed = performance.now() - startedAt;
      const result = JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(`jobs/${job.id}/result.json`))!)) as { timings: Record<string, number> };
      total.push(elapsed);
      outside.push(elapsed - (result.timings.generate ?? 0));
      store.push(result.timings.upload ?? 0);
    }
  } finally {
    await runner.stop('bench over');
    await emulator.stop();
  }
  return { total, outside, submit, store };
}

function fillRandom(bytes: Uint8Array): Uint8Array {
  for (let offset = 0; offset < bytes.length; offset += 65536) crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
  return bytes;
}

function procStats(pid: number): { cpuMs: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, fields 14 and 15
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuMs: (ticks * 1000) / 100, rssMiB: rssKiB / 1024 };
}

async function idleRunner(seconds: number): Promise<{ cpuPercent: number; rssMiB: number }> {
  const emulator = await startTestEmulator();
  const child = spawnRunner({ ...emulator.env(), POLL_WAIT_SECONDS: '20', LOG_LEVEL: 'info' });
  try {
    await child.waitForLog((line) => line.msg === 'runner ready');
    await new Promise((resolve) => setTimeout(resolve, 2000)); // let start-up work settle
    const before = procStats(child.child.pid!);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const after = procStats(child.child.pid!);
    return { cpuPercent: ((after.cpuMs - before.cpuMs) / (seconds * 1000)) * 100, rssMiB: after.rssMiB };
  } finally {
    child.child.kill('SIGTERM');
    await child.exited;
    await emulator.stop();
  }
}

const emulator = await startTestEmulator();
await enqueueToReceive(emulator, 10); // warm-up: connections, JIT
const latency = await enqueueToReceive(emulator, 200);
await emulator.stop();
console.log(`enqueue → receive (consumer long-polling, loopback): ${fmt(latency)}`);

for (const base of process.argv.includes("--only-1024") ? [1024] : [128, 1024]) {
  const jobs = base === 1024 ? Math.max(5, Math.round(JOBS / 3)) : JOBS;
  const { total, outside, submit, store } = await pipelineOverhead(base, jobs);
  console.log(`pipeline per job at ${base}² tiles (submit → completed event, 4 PNGs + grid + latents + result.json):`);
  console.log(`  total ${fmt(total)}\n  outside the generator ${fmt(outside)}\n  of which submitJob ${fmt(submit)}\n  of which encode + upload outputs ${fmt(store)}`);
}

// The test generator's tiles are regular patterns that compress easily; noise is the worst case for PNG.
const { encodePng, composeGrid } = await import('../gpu-runner/imaging.ts');
const noise = () => ({ width: 1024, height: 1024, data: fillRandom(new Uint8Array(1024 * 1024 * 3)) });
const tiles = [noise(), noise(), noise(), noise()];
const encodeTimes: number[] = [];
for (let i = 0; i < 5; i += 1) {
  const started = performance.now();
  await Promise.all([...tiles.map((tile) => encodePng(tile)), encodePng(composeGrid(tiles))]);
  encodeTimes.push(performance.now() - started);
}
console.log(`PNG encoding of 4 noise tiles at 1024² + their 2048² grid, concurrently (worst case for PNG): ${fmt(encodeTimes)}`);

const idle = await idleRunner(30);
console.log(`idle runner process (long-polling an empty queue with 20 s waits, 30 s): CPU ${idle.cpuPercent.toFixed(2)} % of one core, RSS ${idle.rssMiB.toFixed(0)} MiB`);
