/**
 * Cold-start phases of a GPU instance, from "the OS booted" to "the first image is stored", published as
 * CloudWatch metrics through the embedded metric format (EMF): a JSON log line with an `_aws` block, which
 * CloudWatch Logs turns into metrics on its own (the container's awslogs driver ships the line), so the
 * runner needs no metrics API call and no extra permission.
 *
 * The boot script (infra/user-data.ts) records its marks as epoch milliseconds and hands them over in
 * BOOT_PHASES ("os_boot=…,script_start=…,disk_ready=…,model_synced=…,image_pulled=…"); the runner adds its
 * own (process start, sessions created, ready, first image).
 */

export const HOST_MARKS = ['os_boot', 'script_start', 'disk_ready', 'model_synced', 'image_pulled'] as const;
export const RUNNER_MARKS = ['runner_start', 'sessions_created', 'ready', 'first_image'] as const;
export type BootMark = (typeof HOST_MARKS)[number] | (typeof RUNNER_MARKS)[number];

export const METRICS_NAMESPACE = 'cascade-bot/runner';

/** Each phase: its metric name and the two marks it lies between. */
export const PHASES: ReadonlyArray<{ metric: string; from: BootMark; to: BootMark }> = [
  { metric: 'OsBootToScriptMs', from: 'os_boot', to: 'script_start' },
  { metric: 'DiskSetupMs', from: 'script_start', to: 'disk_ready' },
  { metric: 'ModelSyncMs', from: 'disk_ready', to: 'model_synced' },
  // The pull starts with the model sync (in parallel); this is when both were done.
  { metric: 'ImagePullDoneMs', from: 'disk_ready', to: 'image_pulled' },
  { metric: 'ContainerStartMs', from: 'image_pulled', to: 'runner_start' },
  { metric: 'SessionCreateMs', from: 'runner_start', to: 'sessions_created' },
  { metric: 'ReadyMs', from: 'os_boot', to: 'ready' },
  { metric: 'FirstImageMs', from: 'os_boot', to: 'first_image' },
];

/** The host's marks from BOOT_PHASES; unknown names and unreadable numbers are dropped, never thrown. */
export function parseHostMarks(text: string | undefined): Partial<Record<BootMark, number>> {
  const marks: Partial<Record<BootMark, number>> = {};
  for (const pair of (text ?? '').split(',')) {
    const [name, value] = pair.split('=');
    const at = Number(value);
    if ((HOST_MARKS as readonly string[]).includes(name ?? '') && Number.isSafeInteger(at) && at > 0) marks[name as BootMark] = at;
  }
  return marks;
}

export class ColdStartClock {
  readonly #marks: Partial<Record<BootMark, number>>;
  readonly #now: () => number;

  constructor(hostMarks: Partial<Record<BootMark, number>>, options: { runnerStart: number; now?: () => number }) {
    this.#marks = { ...hostMarks, runner_start: options.runnerStart };
    this.#now = options.now ?? Date.now;
  }

  /** Records a mark once (a second call keeps the first time: "first image" stays the first). */
  mark(name: BootMark): void {
    this.#marks[name] ??= this.#now();
  }

  has(name: BootMark): boolean {
    return this.#marks[name] !== undefined;
  }

  /** Phase durations whose two marks are known (a restarted container has no host marks: only its own phases). */
  durations(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { metric, from, to } of PHASES) {
      const start = this.#marks[from];
      const end = this.#marks[to];
      if (start !== undefined && end !== undefined && end >= start) out[metric] = end - start;
    }
    return out;
  }

  /** Log fields that CloudWatch reads as metrics (EMF), one dimension: the fleet group; `only` limits the phases. */
  metricFields(fleetGroup: string, only?: readonly string[]): Record<string, unknown> {
    const durations = Object.fromEntries(Object.entries(this.durations()).filter(([metric]) => !only || only.includes(metric)));
    return {
      _aws: {
        Timestamp: this.#now(),
        CloudWatchMetrics: [
          { Namespace: METRICS_NAMESPACE, Dimensions: [['FleetGroup']], Metrics: Object.keys(durations).map((Name) => ({ Name, Unit: 'Milliseconds' })) },
        ],
      },
      FleetGroup: fleetGroup,
      ...durations,
    };
  }
}
