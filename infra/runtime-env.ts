/**
 * The environment each deployed process gets, by role, with the variable names core/config.ts reads
 * (plus FLEET_GROUP_NAME, read by the fleet adapters). Generic over the value type so the same
 * function serves plain strings in tests and Pulumi outputs in infra/resources/.
 */

/** Node 24 LTS, as in development, CI and the runner image (package.json engines; test/infra/runner-image.test.ts). */
export const LAMBDA_RUNTIME = 'nodejs24.x' as const;

/** Instance metadata, where the runner watches for spot interruption notices. */
export const EC2_METADATA_URL = 'http://169.254.169.254';
/** The runner's own drain budget (core/config DRAIN_TIMEOUT_SECONDS); docker stop waits a little longer. */
export const RUNNER_DRAIN_SECONDS = 90;
export const DOCKER_STOP_SECONDS = RUNNER_DRAIN_SECONDS + 20;

export interface SharedValues<V> {
  region: V;
  jobsQueueUrl: V;
  eventsQueueUrl: V;
  bucket: V;
  maxReceives: number;
  visibilitySeconds: number;
}

export interface FrontEndSecrets<V> {
  discordApplicationId?: V;
  discordPublicKey?: V;
  discordToken?: V;
  slackSigningSecret?: V;
  slackBotToken?: V;
}

function shared<V>(v: SharedValues<V>): Record<string, V | string> {
  return {
    JOBS_QUEUE_URL: v.jobsQueueUrl,
    EVENTS_QUEUE_URL: v.eventsQueueUrl,
    BUCKET: v.bucket,
    JOB_MAX_RECEIVES: String(v.maxReceives),
    JOB_VISIBILITY_SECONDS: String(v.visibilitySeconds),
    LOG_JSON: 'true',
  };
}

function secrets<V>(s: FrontEndSecrets<V>): Record<string, V> {
  const env: Record<string, V> = {};
  if (s.discordApplicationId !== undefined) env.DISCORD_APPLICATION_ID = s.discordApplicationId;
  if (s.discordPublicKey !== undefined) env.DISCORD_PUBLIC_KEY = s.discordPublicKey;
  if (s.discordToken !== undefined) env.DISCORD_TOKEN = s.discordToken;
  if (s.slackSigningSecret !== undefined) env.SLACK_SIGNING_SECRET = s.slackSigningSecret;
  if (s.slackBotToken !== undefined) env.SLACK_BOT_TOKEN = s.slackBotToken;
  return env;
}

/** Lambda functions (the region comes from the Lambda runtime itself). */
export function functionEnvironment<V>(v: SharedValues<V> & { fleetGroupName: V }, s: FrontEndSecrets<V> = {}): Record<string, V | string> {
  return { ...shared(v), FLEET_GROUP_NAME: v.fleetGroupName, ...secrets(s) };
}

/**
 * The runner container on a GPU instance. LAUNCH_HOOK_NAME comes with the boot script's env file; RUNNER_ID
 * (the instance id), MODEL_DIR (the version the model pointer names) and BOOT_PHASES are added at boot
 * (infra/user-data.ts); gpu-runner/main.ts `fleetRunnerGaps` lists what the runner needs, and
 * test/infra checks the rendered boot script leaves none of it out.
 * - JOBS_DLQ_URL: the idle runner announces jobs that crashed it on every attempt.
 * - FLEET_GROUP_NAME + SPOT_METADATA_URL (instance metadata, for the instance id): scale-in protection while busy.
 */
export function runnerEnvironment<V>(v: SharedValues<V> & { fleetGroupName: V; jobsDlqUrl: V; maxJobAgeSeconds: number }): Record<string, V | string> {
  return {
    AWS_REGION: v.region,
    ...shared(v),
    JOB_MAX_AGE_SECONDS: String(v.maxJobAgeSeconds),
    JOBS_DLQ_URL: v.jobsDlqUrl,
    FLEET_GROUP_NAME: v.fleetGroupName,
    SPOT_METADATA_URL: EC2_METADATA_URL,
    DRAIN_TIMEOUT_SECONDS: String(RUNNER_DRAIN_SECONDS),
    ORT_PROVIDER: 'cuda',
  };
}

/** Fleet-control settings for the scaler and the dispatcher (read by functions/fleet-reconcile.ts). */
export function fleetControlEnvironment(settings: { jobsPerInstance: number; scaleInDelayMinutes: number }): Record<string, string> {
  return {
    FLEET_JOBS_PER_INSTANCE: String(settings.jobsPerInstance),
    FLEET_SCALE_IN_DELAY_SECONDS: String(settings.scaleInDelayMinutes * 60),
  };
}

/** Bot policy read by the front ends (core/config, bot/moderation): forwarded from the deploy environment when set. */
export const BOT_POLICY_VARIABLES = ['MAX_PENDING_PER_USER', 'MODERATION_BLOCKLIST', 'MODERATION_RESTRICTED', 'ALLOWED_WORKSPACES', 'ALLOWED_CHANNELS'] as const;

export function botPolicyEnvironment(deployEnv: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BOT_POLICY_VARIABLES) {
    const value = deployEnv[name]?.trim();
    if (value) env[name] = value;
  }
  return env;
}
