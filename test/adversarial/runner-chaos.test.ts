/**
 * kill -9 storm on the runner (issue #18's chaos test): 20 jobs on the emulator, a runner process
 * SIGKILLed up to 6 times at a random moment 0–1.2 s after it took its first job (generating,
 * uploading, polling for the next) and started again; the last one finishes. Every job completes exactly once: 0 lost, 0 duplicated. The long run
 * (≥ 100 kills) is bench/adversarial-chaos.ts.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './support/runner-chaos.ts';

describe('GIVEN a runner killed with SIGKILL at random moments over 20 jobs', () => {
  it('THEN every job completes exactly once, nothing is dead-lettered', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const figures = await runChaos({ jobs: 20, kills: 6, minLifeMs: 0, maxLifeMs: 1200, stepMs: 120, seed, finishTimeoutMs: 40_000 });
    const summary = `seed ${seed}: ${JSON.stringify(figures)}`;
    expect(figures.lost, summary).toBe(0);
    expect(figures.duplicated, summary).toBe(0);
    expect(figures.deadLettered, summary).toBe(0);
    // The storm really happened and hit work in progress, not only idle runners.
    expect(figures.kills, summary).toBeGreaterThanOrEqual(3);
    expect(figures.killsMidJob, summary).toBeGreaterThan(0);
  }, 90_000);
});
