/**
 * The whole back end on one machine, without any account: the SQS/S3 emulator on 127.0.0.1 (unless
 * the environment already names real queues) and a runner with the given image generator.
 * `npm start` (local/system.ts) uses only `startLocalQueues` and runs the runner as a child process
 * (local/runner-process.ts); tests of the runner use the whole stack in one process.
 *
 * @example
 *   const stack = await startLocalStack({ generator: await createCascadeGenerator({ bundleDir, provider: 'cpu' }) });
 *   // stack.env → { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', JOBS_QUEUE_URL: …, EVENTS_QUEUE_URL: …, BUCKET: … }
 *   await stack.stop();
 */
import { loadConfig, type Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/log.js';
import { startRunner, type RunnerHandle } from '../gpu-runner/main.js';
import type { ImageGenerator } from '../gpu-runner/generator.js';
import { startLocalEmulator, type LocalEmulator } from './emulator.js';

export interface LocalStackOptions {
  generator: ImageGenerator;
  /** The environment to read config from (default process.env). */
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** Keep S3 objects in this folder across restarts (local/s3-disk-mirror.ts); in memory only when absent. */
  dataDir?: string;
}

export interface LocalStack {
  /** Environment with the emulator's endpoints and queue URLs filled in, for the front ends. */
  env: Record<string, string | undefined>;
  config: Config;
  emulator?: LocalEmulator;
  runner: RunnerHandle;
  stop(): Promise<void>;
}

export interface LocalQueues {
  /** Environment with the emulator's endpoints and queue URLs filled in. */
  env: Record<string, string | undefined>;
  config: Config;
  emulator?: LocalEmulator;
}

/** The emulator on 127.0.0.1, unless the environment already names real queues (then nothing starts). */
export async function startLocalQueues(options: Omit<LocalStackOptions, 'generator'>): Promise<LocalQueues> {
  const baseEnv = options.env ?? process.env;
  const baseConfig = loadConfig(baseEnv);
  if (baseConfig.jobsQueueUrl) return { env: baseEnv, config: baseConfig };
  const emulator = await startLocalEmulator({ port: baseConfig.localEmulatorPort, maxReceives: baseConfig.runner.maxReceives, visibilitySeconds: baseConfig.runner.visibilitySeconds, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  const env = { ...baseEnv, ...emulator.env() };
  options.log?.info('local SQS/S3 emulator listening', { endpoint: emulator.endpoint, bucket: emulator.bucket });
  return { env, config: loadConfig(env), emulator };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { log: logSettings } = loadConfig(options.env ?? process.env);
  const log = options.log ?? createLogger({ level: logSettings.level, json: logSettings.json });
  const { env, config, emulator } = await startLocalQueues({ ...options, log });
  try {
    const runner = await startRunner({ config, generator: options.generator, log: log.child({ component: 'runner' }), handleSignals: false });
    return {
      env,
      config,
      ...(emulator ? { emulator } : {}),
      runner,
      async stop() {
        await runner.stop('local stack stopping');
        await emulator?.stop();
      },
    };
  } catch (error) {
    await emulator?.stop();
    throw error;
  }
}
