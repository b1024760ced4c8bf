/**
 * The production runner (local/runner-child.ts's setup: cascade engine on the CPU, startRunner) in a
 * child process started with --expose-gc and the runner's production Node flags (gpu-runner/node-flags.ts), answering `sample` messages from bench/runner-memory.ts
 * with its memory after a full collection, so growth can be told from garbage not yet collected.
 */
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import { startRunner } from '../../gpu-runner/main.ts';

const config = loadConfig();
const generator = await createCascadeGenerator({ bundleDir: config.model.dir!, provider: 'cpu' });
const runner = await startRunner({ config, generator, log: createLogger({ level: 'error' }) });
const collect = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { type: string; label: string }) => {
  if (message.type !== 'sample') return;
  // First as `npm start` sees it (garbage included), then after a full collection.
  const before = process.memoryUsage();
  collect?.();
  collect?.();
  process.send!({ type: 'sample', label: message.label, rssBeforeGc: before.rss, heapBeforeGc: before.heapUsed, ...process.memoryUsage() });
  // HEAP_SNAPSHOT_DIR: a V8 heap snapshot per sample, to diff what the JS heap keeps between two of them.
  if (process.env.HEAP_SNAPSHOT_DIR) writeHeapSnapshot(join(process.env.HEAP_SNAPSHOT_DIR, `runner-${message.label.replace(/\W+/g, '-')}.heapsnapshot`));
});
process.send!({ type: 'ready' });
process.once('disconnect', () => void runner.stop('bench over').then(() => process.exit(0)));
await runner.stopped;
process.exit(0);
