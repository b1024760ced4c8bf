/**
 * The GPU fleet's auto-scaling group, seen from the bot and the scaler.
 *
 * - `isWarm()` implements the bot's FleetStatus port (bot/fleet.ts): false while no instance is in
 *   service, which together with waiting jobs is the "GPU waking up" state users see.
 * - `startProblem()` (also FleetStatus): when nothing is in service and the group's latest launch failed
 *   (vCPU quota, no spot capacity, a bad launch template), a sentence saying so, for the waiting users.
 * - `snapshot()` / `resize()` serve the scaler (functions/fleet-reconcile.ts). The one piece of
 *   scaler state, "demand has been below the current size since …", lives as a tag on the group
 *   itself, so every scaler invocation (scheduled or nudged) sees the same clock without a database.
 */
import {
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';

export const SCALE_IN_TAG = 'cascade-bot:scale-in-pending-since';

export interface FleetSnapshot {
  desired: number;
  min: number;
  max: number;
  /** Instances in service (running the runner, past warm-up). */
  inService: number;
  /** Instances launching (Pending, Pending:Wait, Pending:Proceed). */
  launching: number;
  /** From SCALE_IN_TAG; undefined when absent, empty or unreadable. */
  scaleInPendingSince: number | undefined;
}

export interface AutoScalingFleetOptions {
  client: AutoScalingClient;
  groupName: string;
  /** How long an `isWarm()` answer is reused (default 10 s): every status edit asks, the API is rate-limited. */
  warmCacheMs?: number;
  now?: () => number;
}

/** A failed launch older than this no longer explains why nothing is in service (the group retries meanwhile). */
const RECENT_FAILURE_MS = 15 * 60_000;

/** Auto Scaling's failure message (StatusMessage of a failed "Launching" activity) → what a waiting user should read. */
export function launchFailureSentence(statusMessage: string): string {
  if (/VcpuLimitExceeded|vCPU (capacity|limit)|MaxSpotInstanceCountExceeded|InstanceLimitExceeded|quota/i.test(statusMessage)) {
    return 'No GPU can start: the account\'s GPU quota is used up. Your job stays queued; the operator has been alerted.';
  }
  if (/InsufficientInstanceCapacity|capacity-not-available|no Spot capacity|UnfulfillableCapacity|SpotMaxPriceTooLow|insufficient capacity/i.test(statusMessage)) {
    return 'No GPU is available from AWS right now (no spot capacity). Your job stays queued and starts when one frees up.';
  }
  return 'The GPU failed to start. Your job stays queued; the operator has been alerted.';
}

export class AutoScalingFleet {
  readonly #client: AutoScalingClient;
  readonly #groupName: string;
  readonly #warmCacheMs: number;
  readonly #now: () => number;
  #warm: { value: boolean; at: number } | undefined;
  #problem: { value: string | undefined; at: number } | undefined;

  constructor(options: AutoScalingFleetOptions) {
    this.#client = options.client;
    this.#groupName = options.groupName;
    this.#warmCacheMs = options.warmCacheMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async snapshot(): Promise<FleetSnapshot> {
    const response = await this.#client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.#groupName] }));
    const group = response.AutoScalingGroups?.[0];
    if (!group) throw new Error(`auto-scaling group ${this.#groupName} not found (FLEET_GROUP_NAME wrong, or the stack was removed)`);
    const instances = group.Instances ?? [];
    const tagValue = group.Tags?.find((tag) => tag.Key === SCALE_IN_TAG)?.Value;
    const since = tagValue ? Number(tagValue) : Number.NaN;
    return {
      desired: group.DesiredCapacity ?? 0,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      inService: instances.filter((instance) => instance.LifecycleState === 'InService').length,
      launching: instances.filter((instance) => instance.LifecycleState?.startsWith('Pending') ?? false).length,
      scaleInPendingSince: Number.isFinite(since) ? since : undefined,
    };
  }

  /** FleetStatus (bot/fleet.ts): at least one runner is in service. */
  async isWarm(): Promise<boolean> {
    const now = this.#now();
    if (this.#warm && now - this.#warm.at < this.#warmCacheMs) return this.#warm.value;
    const value = (await this.snapshot()).inService > 0;
    this.#warm = { value, at: now };
    return value;
  }

  /** FleetStatus (bot/fleet.ts): why no instance can start, from the group's most recent launch activity. */
  async startProblem(): Promise<string | undefined> {
    const now = this.#now();
    if (this.#problem && now - this.#problem.at < this.#warmCacheMs) return this.#problem.value;
    const response = await this.#client.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: this.#groupName, MaxRecords: 5 }));
    const latest = (response.Activities ?? []).find((activity) => /^Launching/i.test(activity.Description ?? ''));
    const recent = latest?.StartTime !== undefined && now - latest.StartTime.getTime() < RECENT_FAILURE_MS;
    const value = latest && recent && latest.StatusCode === 'Failed' ? launchFailureSentence(latest.StatusMessage ?? '') : undefined;
    this.#problem = { value, at: now };
    return value;
  }

  async setDesired(desired: number): Promise<void> {
    // HonorCooldown false: the scaler's own scale-in delay is the only damping wanted here.
    await this.#client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.#groupName, DesiredCapacity: desired, HonorCooldown: false }));
  }

  async setScaleInPendingSince(since: number | undefined): Promise<void> {
    await this.#client.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: this.#groupName,
            ResourceType: 'auto-scaling-group',
            Key: SCALE_IN_TAG,
            Value: since === undefined ? '' : String(since),
            PropagateAtLaunch: false,
          },
        ],
      }),
    );
  }
}
