import { describe, expect, it } from 'vitest';
import { exponentialDelay, sleep } from '../../core/backoff.ts';

describe('exponentialDelay', () => {
  it('GIVEN successive attempts THEN the delay doubles from the first and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((attempt) => exponentialDelay(attempt, { initialMs: 1000, maxMs: 8000 }))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});

describe('sleep', () => {
  it('GIVEN no abort THEN it waits the delay out', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('GIVEN a signal aborted before or during the wait THEN it resolves at once without throwing', async () => {
    await expect(sleep(60_000, AbortSignal.abort())).resolves.toBeUndefined();
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });
});
