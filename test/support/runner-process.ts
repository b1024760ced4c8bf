/**
 * A runner as its own process, for tests that kill it (kill -9, SIGTERM) or let it drain: the real
 * startRunner with the deterministic test generator, configured only through the environment
 * (TEST_GENERATOR_STEPS, TEST_GENERATOR_STEP_MS on top of core/config.ts).
 */
import { loadConfig } from '../../core/config.ts';
import { startRunner } from '../../gpu-runner/main.ts';
import { TestGenerator } from './test-generator.ts';

const config = loadConfig();
const generator = new TestGenerator({
  steps: Number(process.env.TEST_GENERATOR_STEPS ?? 4),
  stepDelayMs: Number(process.env.TEST_GENERATOR_STEP_MS ?? 0),
});
const runner = await startRunner({ config, generator });
await runner.stopped;
process.exit(0);
