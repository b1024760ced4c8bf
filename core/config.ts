/**
 * All configuration comes from the environment, here and nowhere else. `loadConfig(process.env)`
 * validates every variable at once and throws a ConfigError naming each bad variable (never its
 * value). `redactConfig()` is the only view of the config that may be logged: secrets become
 * "[set]" so a log shows *that* a token is configured, never the token.
 *
 * Queue URLs and the bucket are optional: when absent, `npm start` starts the local emulator and
 * fills them in (see local/emulator.ts).
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** Variables whose values are credentials. Listed once so redaction cannot forget one. */
export const SECRET_VARIABLES = [
  'DISCORD_TOKEN',
  'DISCORD_PUBLIC_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

const optionalText = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/ });
const flag = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((value) => ['1', 'true', 'yes'].includes(value));
/** A TCP port, with an error that says the range instead of zod's "expected number, received NaN" (values are never echoed). */
const PORT_RANGE = 'must be a whole number from 0 to 65535 (0 = any free port)';
const port = (fallback: number) =>
  z.string().trim().regex(/^\d{1,5}$/, { error: PORT_RANGE }).transform(Number).pipe(z.number().max(65_535, { error: PORT_RANGE })).default(fallback);
/** host or host:port, as a browser puts it in the Host header. */
const hostName = z.string().trim().toLowerCase().regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/, { error: 'must be a host name with an optional :port, e.g. play.example.org or play.example.org:8443' });
const seconds = (fallback: number, max: number) => z.coerce.number().int().min(0).max(max).default(fallback);
/** "a, b ,," → ['a', 'b']: blank items are dropped, so an all-blank value means "no list". */
const commaList = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

/** Moderation and allow-lists, shared by every front end (comma-separated). */
const ModerationEnvSchema = z.object({
  MODERATION_BLOCKLIST: commaList.default([]),
  /** Words allowed only in age-restricted channels. */
  MODERATION_RESTRICTED: commaList.default([]),
  /** Discord guild ids / Slack team ids; empty = every workspace. */
  ALLOWED_WORKSPACES: commaList.default([]),
  /** Channel ids; empty = every channel. */
  ALLOWED_CHANNELS: commaList.default([]),
});

const EnvSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** One endpoint for every service (the local emulator), or per service below. */
  AWS_ENDPOINT_URL: url.optional(),
  AWS_ENDPOINT_URL_SQS: url.optional(),
  AWS_ENDPOINT_URL_S3: url.optional(),
  /** The Auto Scaling API (the SDK's own variable name); only tests point it elsewhere. */
  AWS_ENDPOINT_URL_AUTO_SCALING: url.optional(),
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_SESSION_TOKEN: optionalText,
  JOBS_QUEUE_URL: url.optional(),
  JOBS_DLQ_URL: url.optional(),
  EVENTS_QUEUE_URL: url.optional(),
  BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').optional(),

  MAX_PENDING_PER_USER: z.coerce.number().int().min(1).max(100).default(3),
  /** Receives before the redrive policy moves a job to the DLQ; must equal the queue's maxReceiveCount. */
  JOB_MAX_RECEIVES: z.coerce.number().int().min(1).max(1000).default(4),
  JOB_VISIBILITY_SECONDS: seconds(300, 43_200),
  /** A job older than this when received is refused with a \`failed\` event ("expired") instead of run (≤ the queue's 4-day retention). */
  JOB_MAX_AGE_SECONDS: z.coerce.number().int().min(60).max(345_600).default(7200),
  HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(43_200).default(60),
  RETRY_DELAY_SECONDS: seconds(10, 43_200),
  POLL_WAIT_SECONDS: seconds(20, 20),
  PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(2000),
  CANCEL_CHECK_MS: z.coerce.number().int().min(100).default(5000),
  DRAIN_TIMEOUT_SECONDS: seconds(90, 600),
  /** Instance metadata base URL; set to watch for EC2 spot interruption notices. */
  SPOT_METADATA_URL: url.optional(),
  SPOT_POLL_MS: z.coerce.number().int().min(50).default(5000),
  /** How often an idle runner looks for dead-lettered jobs nobody was told about. */
  DLQ_CHECK_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  RUNNER_ID: optionalText,
  /** The GPU fleet's auto-scaling group: the runner protects its own instance from scale-in while busy. */
  FLEET_GROUP_NAME: optionalText,
  /** The fleet's launch lifecycle hook: completed by the runner once the model is loaded (instance InService = ready). */
  LAUNCH_HOOK_NAME: optionalText,
  /** Cold-start marks of the boot script ("os_boot=<ms>,…", gpu-runner/boot-phases.ts); set by docker run, not the env file. */
  BOOT_PHASES: optionalText,
  /** Idle seconds before the runner drops its scale-in protection (no flapping in a busy queue). */
  SCALE_IN_PROTECTION_HOLD_SECONDS: seconds(30, 3600),
  /** The model bundle: a local folder or an s3:// prefix (synced into MODEL_CACHE_DIR). */
  MODEL_DIR: optionalText,
  MODEL_CACHE_DIR: z.string().min(1).default('.cache/models'),
  /** onnxruntime execution provider for the cascade engine. */
  ORT_PROVIDER: z.enum(['cpu', 'cuda', 'webgpu']).default('cpu'),
  /** Hold one model stage in memory at a time (small GPUs). */
  LOW_MEMORY: flag.default(false),
  /** CPU provider: threads each onnxruntime session computes with (0 = onnxruntime's choice, one per core). Fewer leave
   * cores to what shares the machine (npm start's bot and playground, other runners). */
  ORT_CPU_THREADS: z.coerce.number().int().min(0).max(256).default(0),

  LOCAL_EMULATOR_PORT: port(4566),
  /** `npm start`: port of the web playground on 127.0.0.1 (0 = any free port). */
  WEB_PORT: port(3000),
  /** `npm start`: a host name the playground is also reached by (a tunnel or proxy); by default only loopback names are answered. */
  WEB_PUBLIC_HOST: hostName.optional(),
  /** AWS: the board page function's URL (https://…/), the base of every board page link the bot shows. */
  BOARD_PAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** `npm start`: folder that keeps the local store's objects across restarts. */
  DATA_DIR: z.string().min(1).default('.data'),

  DISCORD_TOKEN: optionalText,
  DISCORD_PUBLIC_KEY: optionalText,
  DISCORD_APPLICATION_ID: optionalText,
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Print the log as JSON lines (production) rather than text. */
  LOG_JSON: flag.default(false),
  ...ModerationEnvSchema.shape,
});

export type Env = z.infer<typeof EnvSchema>;

/** Every variable loadConfig reads (a deployment can check it sets no name that would be silently ignored). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface AwsConfig {
  region: string;
  sqsEndpoint?: string;
  s3Endpoint?: string;
  autoScalingEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface RunnerSettings {
  maxReceives: number;
  maxJobAgeSeconds: number;
  visibilitySeconds: number;
  heartbeatSeconds: number;
  /** Seconds a failed job stays hidden before its next attempt. */
  retryDelaySeconds: number;
  pollWaitSeconds: number;
  progressIntervalMs: number;
  cancelCheckMs: number;
  drainTimeoutSeconds: number;
  spotMetadataUrl?: string;
  spotPollMs: number;
  deadLetterCheckSeconds: number;
  runnerId?: string;
  fleetGroupName?: string;
  launchHookName?: string;
  bootPhases?: string;
  scaleInProtectionHoldSeconds: number;
}

/** What bot/moderation.ts's policy is built from; an absent allow-list allows everything. */
export interface ModerationSettings {
  /** Words or phrases refused everywhere. */
  blocklist: readonly string[];
  /** Words or phrases refused unless the channel is age-restricted. */
  restrictedOnly?: readonly string[];
  /** When set, only these Discord guild / Slack team ids may use the bot. */
  allowedWorkspaces?: readonly string[];
  /** When set, only these channel ids may use the bot. */
  allowedChannels?: readonly string[];
}

export interface Config {
  aws: AwsConfig;
  jobsQueueUrl?: string;
  jobsDlqUrl?: string;
  eventsQueueUrl?: string;
  bucket?: string;
  maxPendingPerUser: number;
  runner: RunnerSettings;
  model: { dir?: string; cacheDir: string; provider: 'cpu' | 'cuda' | 'webgpu'; lowMemory: boolean; cpuThreads: number };
  localEmulatorPort: number;
  /** The local playground (`npm start`): web port and the folder that keeps local S3 objects. */
  local: { webPort: number; dataDir: string; publicHost?: string };
  discord: { token?: string; publicKey?: string; applicationId?: string };
  slack: { botToken?: string; signingSecret?: string; appToken?: string };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; json: boolean };
  moderation: ModerationSettings;
  /** Where board pages are served (the playground sets its own URL at start). */
  boards: { pageBaseUrl?: string };
}

/** Empty variables mean "unset" (a common .env habit), not "set to the empty string". */
function presentVariables(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

function moderationSettings(lists: z.infer<typeof ModerationEnvSchema>): ModerationSettings {
  return {
    blocklist: lists.MODERATION_BLOCKLIST,
    restrictedOnly: lists.MODERATION_RESTRICTED,
    ...(lists.ALLOWED_WORKSPACES.length > 0 ? { allowedWorkspaces: lists.ALLOWED_WORKSPACES } : {}),
    ...(lists.ALLOWED_CHANNELS.length > 0 ? { allowedChannels: lists.ALLOWED_CHANNELS } : {}),
  };
}


export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(presentVariables(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.HEARTBEAT_SECONDS >= e.JOB_VISIBILITY_SECONDS) {
    problems.push(`HEARTBEAT_SECONDS (${e.HEARTBEAT_SECONDS}) must be less than JOB_VISIBILITY_SECONDS (${e.JOB_VISIBILITY_SECONDS}), or jobs reappear while they run`);
  }
  if ((e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const credentials =
    e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) }
      : undefined;
  const sqsEndpoint = e.AWS_ENDPOINT_URL_SQS ?? e.AWS_ENDPOINT_URL;
  const s3Endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
  return {
    aws: { region: e.AWS_REGION, ...(sqsEndpoint ? { sqsEndpoint } : {}), ...(s3Endpoint ? { s3Endpoint } : {}),
      ...(e.AWS_ENDPOINT_URL_AUTO_SCALING ? { autoScalingEndpoint: e.AWS_ENDPOINT_URL_AUTO_SCALING } : {}),
      ...(credentials ? { credentials } : {}) },
    ...(e.JOBS_QUEUE_URL ? { jobsQueueUrl: e.JOBS_QUEUE_URL } : {}),
    ...(e.JOBS_DLQ_URL ? { jobsDlqUrl: e.JOBS_DLQ_URL } : {}),
    ...(e.EVENTS_QUEUE_URL ? { eventsQueueUrl: e.EVENTS_QUEUE_URL } : {}),
    ...(e.BUCKET ? { bucket: e.BUCKET } : {}),
    maxPendingPerUser: e.MAX_PENDING_PER_USER,
    runner: {
      maxReceives: e.JOB_MAX_RECEIVES,
      maxJobAgeSeconds: e.JOB_MAX_AGE_SECONDS,
      visibilitySeconds: e.JOB_VISIBILITY_SECONDS,
      heartbeatSeconds: e.HEARTBEAT_SECONDS,
      retryDelaySeconds: e.RETRY_DELAY_SECONDS,
      pollWaitSeconds: e.POLL_WAIT_SECONDS,
      progressIntervalMs: e.PROGRESS_INTERVAL_MS,
      cancelCheckMs: e.CANCEL_CHECK_MS,
      drainTimeoutSeconds: e.DRAIN_TIMEOUT_SECONDS,
      ...(e.SPOT_METADATA_URL ? { spotMetadataUrl: e.SPOT_METADATA_URL } : {}),
      spotPollMs: e.SPOT_POLL_MS,
      deadLetterCheckSeconds: e.DLQ_CHECK_SECONDS,
      ...(e.RUNNER_ID ? { runnerId: e.RUNNER_ID } : {}),
      ...(e.FLEET_GROUP_NAME ? { fleetGroupName: e.FLEET_GROUP_NAME } : {}),
      ...(e.LAUNCH_HOOK_NAME ? { launchHookName: e.LAUNCH_HOOK_NAME } : {}),
      ...(e.BOOT_PHASES ? { bootPhases: e.BOOT_PHASES } : {}),
      scaleInProtectionHoldSeconds: e.SCALE_IN_PROTECTION_HOLD_SECONDS,
    },
    model: { ...(e.MODEL_DIR ? { dir: e.MODEL_DIR } : {}), cacheDir: e.MODEL_CACHE_DIR, provider: e.ORT_PROVIDER, lowMemory: e.LOW_MEMORY, cpuThreads: e.ORT_CPU_THREADS },
    localEmulatorPort: e.LOCAL_EMULATOR_PORT,
    local: { webPort: e.WEB_PORT, dataDir: e.DATA_DIR, ...(e.WEB_PUBLIC_HOST ? { publicHost: e.WEB_PUBLIC_HOST } : {}) },
    discord: { token: e.DISCORD_TOKEN, publicKey: e.DISCORD_PUBLIC_KEY, applicationId: e.DISCORD_APPLICATION_ID },
    slack: { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, appToken: e.SLACK_APP_TOKEN },
    log: { level: e.LOG_LEVEL, json: e.LOG_JSON },
    moderation: moderationSettings(e),
    boards: e.BOARD_PAGE_URL ? { pageBaseUrl: e.BOARD_PAGE_URL } : {},
  };
}

const SECRET_MARK = '[set]';

/** A copy that is safe to log: every credential replaced by "[set]". */
export function redactConfig(config: Config): Config {
  const mark = (value: string | undefined) => (value === undefined ? undefined : SECRET_MARK);
  return {
    ...config,
    aws: {
      ...config.aws,
      ...(config.aws.credentials
        ? { credentials: { accessKeyId: SECRET_MARK, secretAccessKey: SECRET_MARK, ...(config.aws.credentials.sessionToken ? { sessionToken: SECRET_MARK } : {}) } }
        : {}),
    },
    discord: { ...config.discord, token: mark(config.discord.token), publicKey: mark(config.discord.publicKey) },
    slack: { botToken: mark(config.slack.botToken), signingSecret: mark(config.slack.signingSecret), appToken: mark(config.slack.appToken) },
  };
}

/** Replaces any secret value from the environment that appears in `text` (error messages from libraries, for one). */
export function redactSecrets(text: string, env: Record<string, string | undefined> = process.env): string {
  let safe = text;
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value && value.length >= 4) safe = safe.split(value).join(`[${name}]`);
  }
  return safe;
}
