/**
 * One pass of the GPU fleet controller: read the jobs backlog and the group, decide with the pure
 * policy (infra/scaling-policy.ts), apply only what changed. The scheduled scaler runs it every minute
 * in `reconcile` mode; the events dispatcher runs it in `nudge` mode when a job is queued, which wakes
 * a fleet at zero within seconds. Both are idempotent, so overlapping runs agree.
 */
import { ConfigError } from '../core/errors.ts';
import type { QueueDepth } from '../core/ports.ts';
import type { FleetSnapshot } from '../core/aws/auto-scaling-fleet.ts';
import { decideCapacity, type CapacityDecision, type ScalingMode, type ScalingSettings } from '../infra/scaling-policy.ts';

export interface ControllableFleet {
  snapshot(): Promise<FleetSnapshot>;
  setDesired(desired: number): Promise<void>;
  setScaleInPendingSince(since: number | undefined): Promise<void>;
}

export interface ReconcileDeps {
  fleet: ControllableFleet;
  backlog: { depth(): Promise<QueueDepth> };
  settings: ScalingSettings;
  now?: () => number;
}

export interface ReconcileOutcome extends CapacityDecision {
  previous: number;
  inService: number;
}

export async function reconcileFleet(deps: ReconcileDeps, mode: ScalingMode): Promise<ReconcileOutcome> {
  const [fleet, depth] = await Promise.all([deps.fleet.snapshot(), deps.backlog.depth()]);
  const now = (deps.now ?? Date.now)();
  const decision = decideCapacity(depth, fleet, fleet.scaleInPendingSince, now, deps.settings, mode);
  if (decision.desired !== fleet.desired) await deps.fleet.setDesired(decision.desired);
  if (decision.scaleInPendingSince !== fleet.scaleInPendingSince) await deps.fleet.setScaleInPendingSince(decision.scaleInPendingSince);
  return { ...decision, previous: fleet.desired, inService: fleet.inService };
}

/** Environment names of the scaling settings (set by infra/runtime-env.ts, read here). */
export const SCALING_VARIABLES = {
  group: 'FLEET_GROUP_NAME',
  jobsPerInstance: 'FLEET_JOBS_PER_INSTANCE',
  scaleInDelaySeconds: 'FLEET_SCALE_IN_DELAY_SECONDS',
} as const;

export interface FleetControlSettings extends ScalingSettings {
  groupName: string;
}

/** Reads and checks the scaler's variables; a ConfigError names each missing or bad one. */
export function loadFleetControlSettings(env: Record<string, string | undefined>): FleetControlSettings {
  const problems: string[] = [];
  const groupName = env[SCALING_VARIABLES.group]?.trim() ?? '';
  if (groupName === '') problems.push(`${SCALING_VARIABLES.group}: required (the GPU fleet's auto-scaling group name)`);
  const integer = (name: string, min: number, max: number): number => {
    const raw = env[name];
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}`);
    }
    return value;
  };
  const jobsPerInstance = integer(SCALING_VARIABLES.jobsPerInstance, 1, 50);
  const scaleInDelaySeconds = integer(SCALING_VARIABLES.scaleInDelaySeconds, 0, 14_400);
  if (problems.length > 0) throw new ConfigError(problems);
  return { groupName, jobsPerInstance, scaleInDelayMs: scaleInDelaySeconds * 1000 };
}
