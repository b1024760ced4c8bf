/**
 * Scale-in protection for the runner's own instance while it works, so Auto Scaling picks idle
 * instances when the fleet shrinks instead of draining one mid-job.
 *
 * - `InstanceProtection` is the port (one call: protect or not). `AutoScalingInstanceProtection` is
 *   the AWS adapter: SetInstanceProtection on FLEET_GROUP_NAME for the instance id read from IMDSv2.
 * - `ScaleInGuard` decides when: protect as soon as a job starts; drop the protection only after the
 *   runner has been idle for `holdMs`, so a busy queue (job after job) costs one call, not two per job;
 *   and clear it once at start, in case a crashed predecessor on this instance left it set.
 *   Calls are serialized and coalesced (only the latest wish is sent); a failure is logged (name and
 *   message only) and retried later, never thrown at the job.
 */
import { AutoScalingClient, SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import type { AwsConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { InstanceMetadata } from './worker-imds.ts';

export interface InstanceProtection {
  setProtected(protect: boolean): Promise<void>;
}

export interface AutoScalingInstanceProtectionOptions {
  client: AutoScalingClient;
  groupName: string;
  metadata: Pick<InstanceMetadata, 'get'>;
}

export class AutoScalingInstanceProtection implements InstanceProtection {
  readonly #options: AutoScalingInstanceProtectionOptions;
  #instanceId: string | undefined;

  constructor(options: AutoScalingInstanceProtectionOptions) {
    this.#options = options;
  }

  async setProtected(protect: boolean): Promise<void> {
    const instanceId = await this.#ownInstanceId();
    await this.#options.client.send(
      new SetInstanceProtectionCommand({ AutoScalingGroupName: this.#options.groupName, InstanceIds: [instanceId], ProtectedFromScaleIn: protect }),
    );
  }

  /** Read once from instance metadata; retried on the next call while unknown. */
  async #ownInstanceId(): Promise<string> {
    if (this.#instanceId) return this.#instanceId;
    const id = (await this.#options.metadata.get('instance-id'))?.trim();
    if (!id || !/^i-[0-9a-f]+$/.test(id)) throw new Error('the instance id is not available from instance metadata');
    this.#instanceId = id;
    return id;
  }
}

export interface ScaleInGuardOptions {
  protection: InstanceProtection;
  /** Idle time before the protection is dropped (ms). */
  holdMs: number;
  /** Wait before trying again after a failed call (default: holdMs, at least 1 s). */
  retryMs?: number;
  log: Logger;
}

export class ScaleInGuard {
  readonly #options: ScaleInGuardOptions;
  #wanted = false;
  /** What AWS last confirmed; unknown until the first call (a restarted runner may find its instance still protected). */
  #applied: boolean | undefined;
  #busy = false;
  #closed = false;
  #failing = false;
  #holdTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ScaleInGuardOptions) {
    this.#options = options;
  }

  /** What AWS last confirmed. */
  get isProtected(): boolean {
    return this.#applied === true;
  }

  /**
   * At runner start: clear any protection a previous runner process on this instance left behind
   * (crashed mid-job, container restarted), or the idle instance could never be scaled in.
   */
  start(): void {
    if (!this.#closed) this.#want(false);
  }

  jobStarted(): void {
    if (this.#closed) return;
    this.#busy = true;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#want(true);
  }

  jobFinished(): void {
    if (this.#closed) return;
    this.#busy = false;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      if (!this.#busy) this.#want(false);
    }, this.#options.holdMs);
  }

  /** Resolves once every change asked for so far has been tried (sent, or failed and logged). */
  async settled(): Promise<void> {
    await this.#chain;
  }

  /** The runner is leaving: drop the protection now (best effort) and stop all timers. */
  async close(): Promise<void> {
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#retryTimer);
    this.#busy = false;
    this.#want(false);
    this.#closed = true;
    await this.#chain;
  }

  #want(protect: boolean): void {
    this.#wanted = protect;
    this.#chain = this.#chain.then(() => this.#sync());
  }

  async #sync(): Promise<void> {
    const wanted = this.#wanted;
    if (wanted === this.#applied) return;
    clearTimeout(this.#retryTimer);
    try {
      await this.#options.protection.setProtected(wanted);
      this.#applied = wanted;
      const recovered = this.#failing;
      this.#failing = false;
      this.#options.log.info(wanted ? 'instance protected from scale-in' : 'instance scale-in protection removed', recovered ? { recovered } : {});
    } catch (error) {
      // Name and message only (the logger's error form): never request details or credentials.
      this.#options.log[this.#failing ? 'debug' : 'warn']('could not change scale-in protection (jobs are not affected)', {
        protect: wanted,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      this.#failing = true;
      if (!this.#closed) {
        this.#retryTimer = setTimeout(() => this.#want(this.#wanted), this.#options.retryMs ?? Math.max(1000, this.#options.holdMs));
        this.#retryTimer.unref();
      }
    }
  }
}

/** The Auto Scaling client of the runner: the region and credentials of the config, short timeouts (a slow call never holds a drain). */
export function createAutoScalingClient(aws: AwsConfig): AutoScalingClient {
  return new AutoScalingClient({
    region: aws.region,
    ...(aws.autoScalingEndpoint ? { endpoint: aws.autoScalingEndpoint } : {}),
    ...(aws.credentials ? { credentials: aws.credentials } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
  });
}
