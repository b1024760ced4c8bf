/**
 * Chaos for the runner: jobs on the emulator's queue, and a runner process killed with SIGKILL at
 * random moments after it took its first job (generating, uploading, deleting, polling for the next)
 * and started again, until the
 * planned kills are spent; the last one is left to finish. Then every job is checked: lost = no
 * result or no completed event; duplicated = more than one completed event. Shared by
 * test/adversarial/runner-chaos.test.ts (20 jobs, a handful of kills) and bench/adversarial-chaos.ts
 * (≥ 100 kills), which prints the figures.
 */
import type { JobEvent } from '../../../core/job.ts';
import { jobKeys } from '../../../core/storage-layout.ts';
import { submitJob } from '../../../bot/submit.ts';
import { settleEvents, startTestEmulator } from '../../support/emulator.ts';
import { imagineJob } from '../../runner/fixtures.ts';
import { spawnRunner, type RunnerChild } from '../../runner/harness.ts';

export interface ChaosPlan {
  jobs: number;
  kills: number;
  /** Each runner is SIGKILLed a random time in [minLifeMs, maxLifeMs) after it started its first job (kills stop once every job is done). */
  minLifeMs: number;
  maxLifeMs: number;
  seed: number;
  /** Give up waiting for the last runner after this long. */
  finishTimeoutMs: number;
  /** Per generated image step (the test generator), to give kills a job to land in. */
  stepMs?: number;
}

export interface ChaosFigures {
  jobs: number;
  kills: number;
  /** Kills that hit a runner while a job it started was not yet completed (the completed event may still be on its way). */
  killsMidJob: number;
  lost: number;
  duplicated: number;
  /** Messages left in the DLQ (each also counts as lost unless it completed anyway). */
  deadLettered: number;
  /** Jobs started more than once (retried after a kill). */
  retried: number;
  seconds: number;
}

/** mulberry32: a small seeded generator, so a failing run can be repeated from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runChaos(plan: ChaosPlan): Promise<ChaosFigures> {
  const started = Date.now();
  const next = random(plan.seed);
  // Enough receives that no kill pattern sends a job to the DLQ; a dead letter would count as lost below.
  const emulator = await startTestEmulator({ visibilitySeconds: 3, maxReceives: plan.kills + 5 });
  const children: RunnerChild[] = [];
  const events: JobEvent[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      for (const received of await emulator.ports.events.receive({ waitSeconds: 1, max: 10 })) {
        if (received.event) events.push(received.event);
        await emulator.ports.events.ack(received.receiptHandle);
      }
    }
  })();
  const spawn = (name: string) => {
    const runner = spawnRunner({ ...emulator.env(), JOB_VISIBILITY_SECONDS: '3', HEARTBEAT_SECONDS: '1', TEST_GENERATOR_STEPS: '3', TEST_GENERATOR_STEP_MS: String(plan.stepMs ?? 60), LOG_LEVEL: 'error', RUNNER_ID: name });
    children.push(runner);
    return runner;
  };
  try {
    const jobs = Array.from({ length: plan.jobs }, (_, i) => imagineJob({ userId: `chaos-${i % 5}`, prompt: `chaos ${i}`, seed: i }));
    for (const job of jobs) {
      const outcome = await submitJob({ ...emulator.ports, maxPendingPerUser: plan.jobs }, job);
      if (!outcome.accepted) throw new Error(`chaos job ${job.id} was refused: ${outcome.message}`);
    }
    const ids = new Set(jobs.map((job) => job.id));
    const completedIds = () => new Set(events.filter((e) => e.type === 'completed' && ids.has(e.jobId)).map((e) => e.jobId));
    let killsMidJob = 0;
    let kills = 0;
    for (let kill = 0; kill < plan.kills && completedIds().size < ids.size; kill += 1, kills += 1) {
      const name = `chaos-runner-${kill}`;
      const runner = spawn(name);
      // Loading the runner takes seconds on a busy machine: the clock starts at its first job, so that kills land in
      // work (generating, uploading, between jobs) rather than only in start-up.
      const loadDeadline = Date.now() + 30_000;
      while (!events.some((e) => e.type === 'started' && e.runnerId === name) && completedIds().size < ids.size && Date.now() < loadDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, plan.minLifeMs + next() * (plan.maxLifeMs - plan.minLifeMs)));
      const inProgress = [...ids].some((id) => events.some((e) => e.jobId === id && e.type === 'started' && e.runnerId === name) && !completedIds().has(id));
      if (inProgress) killsMidJob += 1;
      runner.child.kill('SIGKILL');
      await runner.exited;
    }
    const survivor = spawn('chaos-runner-last');
    const deadline = Date.now() + plan.finishTimeoutMs;
    while (completedIds().size < ids.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    // Until no job can run again and every event is read, so that a second `completed` for any job would be seen.
    reading = false;
    await reader;
    await settleEvents(emulator, events, plan.finishTimeoutMs);
    survivor.child.kill('SIGTERM');
    await survivor.exited;

    let lost = 0;
    let duplicated = 0;
    let retried = 0;
    for (const id of ids) {
      const mine = events.filter((e) => e.jobId === id);
      const completed = mine.filter((e) => e.type === 'completed').length;
      if (completed === 0 || !(await emulator.ports.blobs.exists(jobKeys.result(id)))) lost += 1;
      if (completed > 1) duplicated += 1;
      if (mine.filter((e) => e.type === 'started').length > 1) retried += 1;
    }
    return { jobs: ids.size, kills, killsMidJob, lost, duplicated, deadLettered: await emulator.inspectDlqCount(), retried, seconds: (Date.now() - started) / 1000 };
  } finally {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    reading = false;
    await reader.catch(() => undefined);
    await emulator.stop();
  }
}
