import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideCapacity, wantedInstances, type ScalingSettings } from '../../infra/scaling-policy.ts';

const settings: ScalingSettings = { jobsPerInstance: 3, scaleInDelayMs: 10 * 60_000 };
const T0 = Date.parse('2026-11-26T10:00:00Z');
const fleet = (desired: number, max = 4, min = 0) => ({ desired, min, max });

describe('scaling policy', () => {
  it.each([
    [{ visible: 0, inFlight: 0 }, 0],
    [{ visible: 1, inFlight: 0 }, 1],
    [{ visible: 3, inFlight: 0 }, 1],
    [{ visible: 3, inFlight: 1 }, 2],
    [{ visible: 100, inFlight: 2 }, 4],
  ])('GIVEN backlog %o and 3 jobs per instance (max 4) THEN %i instances are wanted', (backlog, expected) => {
    expect(wantedInstances(backlog, fleet(0), 3)).toBe(expected);
  });

  it('GIVEN a minimum of 1 THEN an empty queue still wants 1', () => {
    expect(wantedInstances({ visible: 0, inFlight: 0 }, fleet(0, 4, 1), 3)).toBe(1);
  });

  it('GIVEN a fleet at zero and the first job THEN it scales from zero at once, in both modes', () => {
    for (const mode of ['reconcile', 'nudge'] as const) {
      const decision = decideCapacity({ visible: 1, inFlight: 0 }, fleet(0), undefined, T0, settings, mode);
      expect(decision).toMatchObject({ desired: 1, change: 'from-zero', scaleInPendingSince: undefined });
    }
  });

  it('GIVEN more backlog than the fleet serves THEN it scales out at once and clears a pending scale-in', () => {
    const decision = decideCapacity({ visible: 7, inFlight: 2 }, fleet(1), T0 - 60_000, T0, settings, 'reconcile');
    expect(decision).toMatchObject({ desired: 3, change: 'scale-out', scaleInPendingSince: undefined });
  });

  it('GIVEN the queue empties THEN capacity is held for the whole scale-in delay, then released', () => {
    const idle = { visible: 0, inFlight: 0 };
    const first = decideCapacity(idle, fleet(2), undefined, T0, settings, 'reconcile');
    expect(first).toMatchObject({ desired: 2, change: 'scale-in-pending', scaleInPendingSince: T0 });
    const almost = decideCapacity(idle, fleet(2), first.scaleInPendingSince, T0 + settings.scaleInDelayMs - 1, settings, 'reconcile');
    expect(almost).toMatchObject({ desired: 2, change: 'scale-in-pending', scaleInPendingSince: T0 });
    const released = decideCapacity(idle, fleet(2), almost.scaleInPendingSince, T0 + settings.scaleInDelayMs, settings, 'reconcile');
    expect(released).toMatchObject({ desired: 0, change: 'scale-in', scaleInPendingSince: undefined });
  });

  it('GIVEN a team pauses and comes back inside the delay THEN the warm fleet is kept and the clock resets', () => {
    const paused = decideCapacity({ visible: 0, inFlight: 0 }, fleet(1), undefined, T0, settings, 'reconcile');
    expect(paused.desired).toBe(1);
    const back = decideCapacity({ visible: 2, inFlight: 0 }, fleet(1), paused.scaleInPendingSince, T0 + 5 * 60_000, settings, 'reconcile');
    expect(back).toMatchObject({ desired: 1, change: 'hold', scaleInPendingSince: undefined });
  });

  it('GIVEN a nudge while demand is below the fleet THEN nothing shrinks and the scale-in clock is left as it was', () => {
    const decision = decideCapacity({ visible: 1, inFlight: 0 }, fleet(3), T0 - 20 * 60_000, T0, settings, 'nudge');
    expect(decision).toMatchObject({ desired: 3, change: 'hold', scaleInPendingSince: T0 - 20 * 60_000 });
  });

  it('GIVEN no scale-in delay THEN an idle fleet goes to zero on the first reconcile', () => {
    const decision = decideCapacity({ visible: 0, inFlight: 0 }, fleet(2), undefined, T0, { ...settings, scaleInDelayMs: 0 }, 'reconcile');
    expect(decision).toMatchObject({ desired: 0, change: 'scale-in' });
  });

  it('GIVEN jobsPerInstance below 1 THEN it refuses to decide', () => {
    expect(() => decideCapacity({ visible: 1, inFlight: 0 }, fleet(0), undefined, T0, { jobsPerInstance: 0, scaleInDelayMs: 0 }, 'reconcile')).toThrow(
      /jobsPerInstance must be at least 1/,
    );
  });

  it('PROPERTY: desired stays within [min, max] (or the current size while holding), nudges never shrink, work always gets an instance', () => {
    fc.assert(
      fc.property(
        fc.nat(500),
        fc.nat(50),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(25),
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(3_600_000),
        fc.constantFrom('reconcile' as const, 'nudge' as const),
        (visible, inFlight, min, extraMax, desired, sinceAgo, perInstance, delay, mode) => {
          const max = min + extraMax;
          const since = sinceAgo === undefined ? undefined : T0 - sinceAgo;
          const d = decideCapacity({ visible, inFlight }, { desired, min, max }, since, T0, { jobsPerInstance: perInstance, scaleInDelayMs: delay }, mode);
          if (d.change === 'scale-in' || d.change === 'scale-out' || d.change === 'from-zero') {
            expect(d.desired).toBeGreaterThanOrEqual(min);
            expect(d.desired).toBeLessThanOrEqual(max);
          } else {
            expect(d.desired).toBe(desired);
          }
          if (mode === 'nudge') expect(d.desired).toBeGreaterThanOrEqual(desired);
          if (visible + inFlight > 0) expect(d.desired).toBeGreaterThanOrEqual(1);
          if (d.change === 'scale-in') expect(d.desired).toBeLessThan(desired);
        },
      ),
    );
  });
});
