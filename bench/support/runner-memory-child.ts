/**
 * The production runner (local/runner-child.ts's setup: cascade engine on the CPU, startRunner) in a
 * child process started with --expose-gc, answering `sample` messages from bench/runner-memory.ts
 * with its memory after a full collection, so growth can be told from garbage not yet collected.
 */
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.js';
import { startRunner } from '../../gpu-runner/main.js';

const config = loadConfig();
const generator = await createCascadeGenerator({ bundleDir: config.model.dir!, provider: 'cpu' });
const runner = await startRunner({ config, generator, log: createLogger({ level: 'error' }) });
const collect = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { type: string; label: string }) => {
  if (message.type !== 'sample') return;
  collect?.();
  collect?.();
  process.send!({ type: 'sample', label: message.label, ...process.memoryUsage() });
});
process.send!({ type: 'ready' });
process.once('disconnect', () => void runner.stop('bench over').then(() => process.exit(0)));
await runner.stopped;
process.exit(0);
