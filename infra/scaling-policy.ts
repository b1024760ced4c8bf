/**
 * How many GPU instances the fleet should have, as a pure function of the jobs backlog, the fleet
 * and one remembered timestamp. The scaler Lambda applies it every minute; the events dispatcher
 * applies it in `nudge` mode the moment a job is queued, which is the fast path from zero (no wait
 * for per-minute CloudWatch metrics or the next scheduled run).
 *
 * Scale-out is immediate. Scale-in waits until demand has stayed below the current size for the
 * whole scale-in delay, so a team that pauses between bursts does not pay a cold start twice.
 * Busy instances are additionally protected from scale-in by the runner itself.
 *
 * @example
 *   decideCapacity({ visible: 5, inFlight: 0 }, { desired: 0, min: 0, max: 4 }, undefined, now, { jobsPerInstance: 3, scaleInDelayMs: 600_000 }, 'reconcile')
 *   // → { desired: 2, change: 'from-zero', scaleInPendingSince: undefined, reason: '5 jobs waiting or running, 3 per instance → 2' }
 */

export interface Backlog {
  /** Jobs waiting (SQS ApproximateNumberOfMessages). */
  visible: number;
  /** Jobs being worked on (ApproximateNumberOfMessagesNotVisible). */
  inFlight: number;
}

export interface FleetSize {
  desired: number;
  min: number;
  max: number;
}

export interface ScalingSettings {
  jobsPerInstance: number;
  scaleInDelayMs: number;
}

/** `reconcile` may grow or shrink the fleet; `nudge` (on a newly queued job) only ever grows it. */
export type ScalingMode = 'reconcile' | 'nudge';

export type CapacityChange = 'from-zero' | 'scale-out' | 'scale-in' | 'hold' | 'scale-in-pending';

export interface CapacityDecision {
  desired: number;
  change: CapacityChange;
  /** When demand first dropped below the current size (ms since epoch); undefined when it has not. Persist it. */
  scaleInPendingSince: number | undefined;
  reason: string;
}

/** Instances the backlog needs right now, within the group's bounds. */
export function wantedInstances(backlog: Backlog, fleet: Pick<FleetSize, 'min' | 'max'>, jobsPerInstance: number): number {
  const work = Math.max(0, backlog.visible) + Math.max(0, backlog.inFlight);
  const needed = Math.ceil(work / jobsPerInstance);
  return Math.min(fleet.max, Math.max(fleet.min, needed));
}

export function decideCapacity(
  backlog: Backlog,
  fleet: FleetSize,
  scaleInPendingSince: number | undefined,
  now: number,
  settings: ScalingSettings,
  mode: ScalingMode,
): CapacityDecision {
  if (!(settings.jobsPerInstance >= 1)) throw new RangeError(`jobsPerInstance must be at least 1, got ${settings.jobsPerInstance}`);
  const work = Math.max(0, backlog.visible) + Math.max(0, backlog.inFlight);
  const wanted = wantedInstances(backlog, fleet, settings.jobsPerInstance);
  const why = `${work} job${work === 1 ? '' : 's'} waiting or running, ${settings.jobsPerInstance} per instance → ${wanted}`;

  if (wanted > fleet.desired) {
    return { desired: wanted, change: fleet.desired === 0 ? 'from-zero' : 'scale-out', scaleInPendingSince: undefined, reason: why };
  }
  if (wanted === fleet.desired || mode === 'nudge') {
    // A nudge never shrinks the fleet and leaves the scale-in clock to the scheduled reconcile.
    const keep = wanted === fleet.desired ? undefined : scaleInPendingSince;
    return { desired: fleet.desired, change: 'hold', scaleInPendingSince: keep, reason: why };
  }
  // Demand is below the current size: release capacity only after it has stayed lower for the whole delay.
  const since = scaleInPendingSince ?? now;
  if (now - since >= settings.scaleInDelayMs) {
    return { desired: wanted, change: 'scale-in', scaleInPendingSince: undefined, reason: `${why} (lower for ${Math.round((now - since) / 1000)} s)` };
  }
  const remainingS = Math.ceil((settings.scaleInDelayMs - (now - since)) / 1000);
  return { desired: fleet.desired, change: 'scale-in-pending', scaleInPendingSince: since, reason: `${why}; scaling in after ${remainingS} s more` };
}
