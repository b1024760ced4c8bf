/**
 * The queues and the object store for `npm start`, without any account: the SQS/S3 emulator on
 * 127.0.0.1, unless the environment already names real queues. local/system.ts runs the rest (the
 * runner as a child process, local/runner-process.ts).
 *
 * @example
 *   const queues = await startLocalQueues({ env: process.env });
 *   // queues.env → { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', JOBS_QUEUE_URL: …, EVENTS_QUEUE_URL: …, BUCKET: … }
 *   await queues.emulator?.stop();
 */
import { loadConfig, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { startLocalEmulator, type LocalEmulator } from './emulator.ts';

export interface LocalQueuesOptions {
  /** The environment to read config from (default process.env). */
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** Keep S3 objects in this folder across restarts (local/s3-disk-mirror.ts); in memory only when absent. */
  dataDir?: string;
}

export interface LocalQueues {
  /** Environment with the emulator's endpoints and queue URLs filled in. */
  env: Record<string, string | undefined>;
  config: Config;
  emulator?: LocalEmulator;
}

/** The emulator on 127.0.0.1, unless the environment already names real queues (then nothing starts). */
export async function startLocalQueues(options: LocalQueuesOptions): Promise<LocalQueues> {
  const baseEnv = options.env ?? process.env;
  const baseConfig = loadConfig(baseEnv);
  if (baseConfig.jobsQueueUrl) return { env: baseEnv, config: baseConfig };
  const emulator = await startLocalEmulator({ port: baseConfig.localEmulatorPort, maxReceives: baseConfig.runner.maxReceives, visibilitySeconds: baseConfig.runner.visibilitySeconds, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  const env = { ...baseEnv, ...emulator.env() };
  options.log?.info('local SQS/S3 emulator listening', { endpoint: emulator.endpoint, bucket: emulator.bucket });
  return { env, config: loadConfig(env), emulator };
}
