/**
 * Deploy-time settings of the AWS app, read from the environment of `npx sst deploy` (all optional,
 * prefixed `CASCADE_`), plus the stage's committed settings (alarm e-mails, budget: infra/stages.json). Every problem is reported at once, naming the variable and what is allowed,
 * before any resource is planned, so a typo never becomes a half-deployed fleet.
 *
 * @example
 *   CASCADE_FLEET_MAX_INSTANCES=4 CASCADE_FLEET_INSTANCE_TYPES=g6.xlarge,g5.xlarge npx sst deploy --stage prod
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { DEFAULT_INSTANCE_TYPES, instanceTypeProblems } from './instance-types.ts';
import type { StageSettings } from './stages.ts';

export type ChatPlatform = 'discord' | 'slack';

export interface InfraConfig {
  /** Front ends to deploy; each needs only its own secrets. */
  platforms: ChatPlatform[];
  fleet: {
    instanceTypes: string[];
    minInstances: number;
    maxInstances: number;
    /** Jobs waiting or running per GPU instance that the scaler aims for. */
    jobsPerInstance: number;
    /** How long demand must stay lower before instances are released. */
    scaleInDelayMinutes: number;
    rootVolumeGiB: number;
    /** Attach AmazonSSMManagedInstanceCore so operators can open a shell (its statements use `*`). */
    ssmAccess: boolean;
    /** Launch to ready (model loaded) within this, or the launch hook abandons the instance. */
    bootTimeoutMinutes: number;
  };
  /** Reserved concurrency of each chat front end (Discord, Slack): a flood of requests cannot exhaust the account. */
  frontEndConcurrency: number;
  model: { name: string };
  runnerImageTag: string;
  jobs: {
    /** Receives before a job is moved to the DLQ; also the runner's JOB_MAX_RECEIVES. */
    maxReceives: number;
    visibilitySeconds: number;
    /** The runner refuses (tells the user "expired") a job older than this instead of running it. */
    maxAgeMinutes: number;
  };
  storage: { jobRetentionDays: number };
  alarms: {
    /** From infra/stages.json: subscribed to the alarm topic and to the budget's alerts. */
    emails: string[];
    oldestJobMinutes: number;
    /** Desired > 0 but nothing in service for this long = the fleet fails to start. */
    fleetStartMinutes: number;
    /** Instances in service this long while no job waits or runs: the fleet is not scaling in. */
    idleFleetHours: number;
    /** From infra/stages.json; 0 = no AWS Budget. */
    monthlyBudgetUsd: number;
  };
}

/** A model name is a path segment of the bucket: models/<name>/. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const DEFAULT_MODEL_NAME = 'stable-cascade';

/** The runner extends visibility every 60 s (core/config HEARTBEAT_SECONDS); anything shorter loses jobs mid-run. */
const MIN_VISIBILITY_SECONDS = 120;
/** The jobs queue keeps a message 4 days (infra/resources/queues.ts); a job cannot be older when received. */
export const JOB_RETENTION_MINUTES = 4 * 24 * 60;

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((value) => ['1', 'true', 'yes'].includes(value));

const EnvSchema = z.object({
  CASCADE_PLATFORMS: z.string().default('discord,slack'),
  CASCADE_FLEET_INSTANCE_TYPES: z.string().default(DEFAULT_INSTANCE_TYPES.join(',')),
  CASCADE_FLEET_MIN_INSTANCES: int(0, 0, 100),
  CASCADE_FLEET_MAX_INSTANCES: int(2, 1, 100),
  CASCADE_JOBS_PER_INSTANCE: int(3, 1, 50),
  CASCADE_SCALE_IN_DELAY_MINUTES: int(10, 0, 240),
  CASCADE_ROOT_VOLUME_GIB: int(100, 60, 2000),
  CASCADE_MIN_GPU_MEMORY_GIB: int(20, 8, 192),
  CASCADE_FLEET_SSM_ACCESS: flag.default(false),
  CASCADE_BOOT_TIMEOUT_MINUTES: int(20, 5, 120),
  CASCADE_FRONT_END_CONCURRENCY: int(20, 1, 1000),
  CASCADE_JOB_MAX_AGE_MINUTES: int(120, 5, JOB_RETENTION_MINUTES),
  CASCADE_IDLE_FLEET_ALARM_HOURS: int(3, 1, 72),
  CASCADE_MODEL_NAME: z
    .string()
    .regex(MODEL_NAME_PATTERN, 'must be 1–63 chars of a-z, 0-9, ".", "_" and "-" (it becomes the S3 prefix models/<name>/)')
    .default(DEFAULT_MODEL_NAME),
  CASCADE_RUNNER_IMAGE_TAG: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a Docker tag: up to 128 chars of letters, digits, "_", "." and "-"')
    .default('latest'),
  CASCADE_JOB_MAX_RECEIVES: int(4, 1, 1000),
  CASCADE_JOB_VISIBILITY_SECONDS: int(300, MIN_VISIBILITY_SECONDS, 43_200),
  CASCADE_JOB_RETENTION_DAYS: int(30, 1, 3650),
  CASCADE_ALARM_EMAIL: z.undefined({ error: 'alarm e-mails are set per stage in infra/stages.json ("alarmEmails"), not in the deploying shell' }).optional(),
  CASCADE_OLDEST_JOB_ALARM_MINUTES: int(10, 1, 59),
  CASCADE_FLEET_START_ALARM_MINUTES: int(15, 5, 60),
});

const NO_STAGE_SETTINGS: StageSettings = { alarmEmails: [], monthlyBudgetUsd: 0 };

/** Validates the deploy environment; throws ConfigError listing every bad variable (names and rules, never values). */
export function loadInfraConfig(env: Record<string, string | undefined>, stage: StageSettings = NO_STAGE_SETTINGS): InfraConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => name.startsWith('CASCADE_') && value !== undefined && value.trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const instanceTypes = e.CASCADE_FLEET_INSTANCE_TYPES.split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');

  const problems: string[] = [];
  const platformNames = e.CASCADE_PLATFORMS.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const platforms = [...new Set(platformNames)].filter((name): name is ChatPlatform => name === 'discord' || name === 'slack');
  const unknownPlatforms = platformNames.filter((name) => name !== 'discord' && name !== 'slack');
  if (unknownPlatforms.length > 0) problems.push(`CASCADE_PLATFORMS: ${unknownPlatforms.join(', ')} unknown (use discord, slack or both, comma-separated)`);
  else if (platforms.length === 0) problems.push('CASCADE_PLATFORMS: name at least one of discord, slack');
  if (instanceTypes.length === 0) problems.push('CASCADE_FLEET_INSTANCE_TYPES: name at least one GPU instance type');
  for (const type of instanceTypes) {
    for (const problem of instanceTypeProblems(type, e.CASCADE_MIN_GPU_MEMORY_GIB)) problems.push(`CASCADE_FLEET_INSTANCE_TYPES: ${problem}`);
  }
  const duplicates = instanceTypes.filter((type, index) => instanceTypes.indexOf(type) !== index);
  if (duplicates.length > 0) problems.push(`CASCADE_FLEET_INSTANCE_TYPES: ${[...new Set(duplicates)].join(', ')} listed twice`);
  if (instanceTypes.length > 20) problems.push(`CASCADE_FLEET_INSTANCE_TYPES: ${instanceTypes.length} types; an auto-scaling group takes at most 20`);
  if (e.CASCADE_FLEET_MIN_INSTANCES > e.CASCADE_FLEET_MAX_INSTANCES) {
    problems.push(
      `CASCADE_FLEET_MIN_INSTANCES (${e.CASCADE_FLEET_MIN_INSTANCES}) must not exceed CASCADE_FLEET_MAX_INSTANCES (${e.CASCADE_FLEET_MAX_INSTANCES})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    platforms,
    fleet: {
      instanceTypes,
      minInstances: e.CASCADE_FLEET_MIN_INSTANCES,
      maxInstances: e.CASCADE_FLEET_MAX_INSTANCES,
      jobsPerInstance: e.CASCADE_JOBS_PER_INSTANCE,
      scaleInDelayMinutes: e.CASCADE_SCALE_IN_DELAY_MINUTES,
      rootVolumeGiB: e.CASCADE_ROOT_VOLUME_GIB,
      ssmAccess: e.CASCADE_FLEET_SSM_ACCESS,
      bootTimeoutMinutes: e.CASCADE_BOOT_TIMEOUT_MINUTES,
    },
    frontEndConcurrency: e.CASCADE_FRONT_END_CONCURRENCY,
    model: { name: e.CASCADE_MODEL_NAME },
    runnerImageTag: e.CASCADE_RUNNER_IMAGE_TAG,
    jobs: { maxReceives: e.CASCADE_JOB_MAX_RECEIVES, visibilitySeconds: e.CASCADE_JOB_VISIBILITY_SECONDS, maxAgeMinutes: e.CASCADE_JOB_MAX_AGE_MINUTES },
    storage: { jobRetentionDays: e.CASCADE_JOB_RETENTION_DAYS },
    alarms: {
      emails: [...stage.alarmEmails],
      oldestJobMinutes: e.CASCADE_OLDEST_JOB_ALARM_MINUTES,
      fleetStartMinutes: e.CASCADE_FLEET_START_ALARM_MINUTES,
      idleFleetHours: e.CASCADE_IDLE_FLEET_ALARM_HOURS,
      monthlyBudgetUsd: stage.monthlyBudgetUsd,
    },
  };
}
