/**
 * The runner as `npm start` runs it: its own process (as in production, where it has its own machine),
 * so that onnxruntime's session.run, which blocks its JS thread for each step, does not hold up the
 * emulator, dispatcher and web server. Started and supervised by ./runner-process.ts through `fork`:
 * configuration comes in the environment (emulator endpoint, queue URLs, bucket, MODEL_DIR = a local
 * bundle folder), and one IPC message goes back — `ready` once the model is loaded and the worker polls,
 * or `failed` with the reason. SIGTERM drains (gpu-runner/main.ts `startRunner`); so does the parent
 * going away (its IPC channel closes), so the runner never outlives `npm start`.
 */
import { loadConfig, redactSecrets } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';
import { startRunner, type RunnerHandle } from '../gpu-runner/main.ts';

export type RunnerChildMessage = { type: 'ready'; runnerId: string } | { type: 'failed'; message: string };

function send(message: RunnerChildMessage): Promise<void> {
  return new Promise((done) => (process.send ? process.send(message, undefined, {}, () => done()) : done()));
}

let runner: RunnerHandle | undefined;
// Registered first: the parent may die while the model is still loading.
process.once('disconnect', () => (runner ? void runner.stop('parent process gone') : process.exit(0)));

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.model.dir) throw new ConfigError(['MODEL_DIR: required (the model bundle folder)']);
  const log = createLogger({ level: config.log.level, json: config.log.json, fields: { component: 'runner' } });
  const generator = await createCascadeGenerator({ bundleDir: config.model.dir, provider: config.model.provider, lowMemory: config.model.lowMemory, cpuThreads: config.model.cpuThreads }).catch((error: unknown) => {
    throw new Error(`the model in ${config.model.dir} could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
  });
  runner = await startRunner({ config, generator, log });
  await send({ type: 'ready', runnerId: runner.runnerId });
  await runner.stopped;
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    if (process.send && process.connected) await send({ type: 'failed', message });
    else process.stderr.write(`runner: ${message}\n`);
    process.exit(1);
  },
);
