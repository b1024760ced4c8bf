/**
 * The runner's entry point: config → ports → worker, plus the two ways a machine asks us to leave
 * (SIGTERM/SIGINT, an EC2 spot interruption notice). The image generator is passed in, so `npm start`
 * can wire the cascade engine (`createCascadeGenerator` in ./cascade/index.ts) and tests a small one.
 *
 * @example
 *   const runner = await startRunner({ config: loadConfig(), generator });
 *   await runner.stopped; // after SIGTERM or a spot notice, once the job in flight is finished or released
 */
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Config } from '../core/config.ts';
import { loadConfig, redactConfig, redactSecrets } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createAwsPorts, createS3Client, type Ports } from '../core/aws/index.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { ImageGenerator } from './generator.ts';
import { Worker } from './worker.ts';
import { SpotWatcher } from './worker-spot.ts';
import { InstanceMetadata } from './worker-imds.ts';
import { AutoScalingInstanceProtection, createAutoScalingClient, ScaleInGuard } from './worker-protection.ts';
import { announceReady } from './worker-launch.ts';
import { ColdStartClock, parseHostMarks, PHASES } from './boot-phases.ts';

export interface StartRunnerOptions {
  config: Config;
  generator: ImageGenerator;
  log?: Logger;
  /** Ports to use instead of building AWS ones from config (tests of other areas may pass their own). */
  ports?: Ports;
  /** Listen for SIGTERM/SIGINT (default true; off when embedding several runners in one process). */
  handleSignals?: boolean;
}

/**
 * What a runner on the GPU fleet needs beyond what loadConfig checks: without these it still runs,
 * but loses a feature (or cannot start). infra/user-data.ts must set them all (test/infra checks it).
 */
export function fleetRunnerGaps(config: Config): string[] {
  const gaps: Array<string | false> = [
    !config.model.dir && 'MODEL_DIR: required (a model bundle folder or an s3:// prefix)',
    !config.jobsQueueUrl && 'JOBS_QUEUE_URL: required',
    !config.eventsQueueUrl && 'EVENTS_QUEUE_URL: required',
    !config.bucket && 'BUCKET: required',
    !config.jobsDlqUrl && 'JOBS_DLQ_URL: unset, so jobs that crash the runner every time are never announced to their users',
    !config.runner.spotMetadataUrl && 'SPOT_METADATA_URL: unset, so spot interruption notices and the instance id are unknown',
    !config.runner.fleetGroupName && 'FLEET_GROUP_NAME: unset, so a busy instance is not protected from scale-in',
    !config.runner.runnerId && 'RUNNER_ID: unset, so logs and events name the container, not the instance',
    !config.runner.launchHookName && 'LAUNCH_HOOK_NAME: unset, so the instance never reports ready and its launch hook abandons it',
  ];
  return gaps.filter((gap): gap is string => gap !== false);
}

/** Scale-in protection while busy: only on the fleet (group name and instance metadata both known). */
function scaleInGuardFor(config: Config, log: Logger): ScaleInGuard | undefined {
  const { fleetGroupName, spotMetadataUrl, scaleInProtectionHoldSeconds } = config.runner;
  if (!fleetGroupName || !spotMetadataUrl) return undefined;
  const protection = new AutoScalingInstanceProtection({
    client: createAutoScalingClient(config.aws),
    groupName: fleetGroupName,
    metadata: new InstanceMetadata(spotMetadataUrl),
  });
  return new ScaleInGuard({ protection, holdMs: scaleInProtectionHoldSeconds * 1000, log });
}

export interface RunnerHandle {
  worker: Worker;
  runnerId: string;
  /** Settles when the worker has stopped and the generator is disposed. */
  stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

export async function startRunner(options: StartRunnerOptions): Promise<RunnerHandle> {
  const { config, generator } = options;
  const runnerId = config.runner.runnerId ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? createLogger({ level: config.log.level, json: config.log.json, fields: { component: 'runner' } });
  log.debug('configuration', { config: redactConfig(config) });
  const ports = options.ports ?? createAwsPorts(config, { maxAttempts: 2, connectionTimeoutMs: 2000 });
  const scaleIn = scaleInGuardFor(config, log);
  scaleIn?.start();
  const worker = new Worker({ ...ports, generator, settings: { ...config.runner, runnerId }, log, ...(scaleIn ? { busySignal: scaleIn } : {}) });

  const ownsProcess = options.handleSignals !== false;
  const stop = async (reason: string) => {
    // Owning the process: leave within the drain limit even if something hangs.
    if (ownsProcess) setTimeout(() => process.exit(1), config.runner.drainTimeoutSeconds * 1000).unref();
    await worker.stop(reason);
  };
  const spot = config.runner.spotMetadataUrl
    ? new SpotWatcher({ baseUrl: config.runner.spotMetadataUrl, pollMs: config.runner.spotPollMs, log, onNotice: () => void stop('spot interruption notice') })
    : undefined;
  spot?.start();

  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal while draining: the operator insists; leave at once (the job reappears on its own).
    if (signal === 'SIGINT' && worker.busy && signalsSeen > 0) process.exit(130);
    signalsSeen += 1;
    void stop(signal);
  };
  let signalsSeen = 0;
  if (ownsProcess) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  const stopped = worker.start().finally(async () => {
    await spot?.stop();
    await scaleIn?.close();
    if (ownsProcess) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    await generator.dispose();
  });
  return { worker, runnerId, stopped, stop: async (reason) => { await stop(reason); await stopped; } };
}

/** The same generator, calling `first` once when its first image is made (the cold start's last phase). */
export function onFirstImage(generator: ImageGenerator, first: () => void): ImageGenerator {
  let seen = false;
  return {
    get baseResolution() {
      return generator.baseResolution;
    },
    get modelName() {
      return generator.modelName;
    },
    get modelVariant() {
      return generator.modelVariant;
    },
    generate: async (request, hooks) => {
      const output = await generator.generate(request, hooks);
      if (!seen) {
        seen = true;
        first();
      }
      return output;
    },
    dispose: () => generator.dispose(),
  };
}

/**
 * The production runner: the image runs this file bundled (bin/bundle.ts → `node --initial-old-space-size=128 main.mjs`; flags: ./node-flags.ts). Reads
 * MODEL_DIR (a folder or an s3:// prefix), builds the cascade engine and serves until told to leave.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, json: config.log.json, fields: { component: 'runner' } });
  const clock = new ColdStartClock(parseHostMarks(config.runner.bootPhases), { runnerStart: Math.round(performance.timeOrigin) });
  const metricsGroup = config.runner.fleetGroupName ?? 'local';
  if (!config.model.dir) throw new ConfigError(['MODEL_DIR: required (a model bundle folder or an s3:// prefix)']);
  const gaps = fleetRunnerGaps(config);
  if (gaps.length > 0) log.warn('runner started without some fleet settings', { gaps });
  const { resolveModelSource } = await import('./model-source.ts');
  const { createCascadeGenerator, providerSupport } = await import('./cascade/index.ts');
  // The provider is chosen by ORT_PROVIDER only (no fallback): say which one, and stop with how to get it when missing.
  const provider = providerSupport(config.model.provider);
  if (!provider.available) throw new ConfigError([`ORT_PROVIDER=${provider.provider}: ${provider.detail}`]);
  // ORT_CPU_THREADS rides in the fields: the line itself stays the same for whoever greps for it.
  const threads = provider.provider === 'cpu' && config.model.cpuThreads > 0 ? { cpuThreads: config.model.cpuThreads } : {};
  log.info(`onnxruntime execution provider: ${provider.provider} (ORT_PROVIDER)`, { provider: provider.provider, ...threads });
  const bundleDir = await resolveModelSource(config.model.dir, {
    cacheDir: config.model.cacheDir,
    s3: createS3Client(config.aws),
    log: (message) => log.info(message),
  });
  const engine = await createCascadeGenerator({ bundleDir, provider: config.model.provider, lowMemory: config.model.lowMemory, cpuThreads: config.model.cpuThreads });
  clock.mark('sessions_created');
  const generator = onFirstImage(engine, () => {
    clock.mark('first_image');
    log.info('cold start: first image', clock.metricFields(metricsGroup, ['FirstImageMs']));
  });
  const runner = await startRunner({ config, generator, log });
  // Model loaded, sessions created, worker polling: Auto Scaling may count this instance in service now.
  await announceReady(config, log);
  clock.mark('ready');
  log.info('cold start: ready', clock.metricFields(metricsGroup, PHASES.map((phase) => phase.metric).filter((metric) => metric !== 'FirstImageMs')));
  await runner.stopped;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${redactSecrets(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}\n`);
      process.exit(1);
    },
  );
}
