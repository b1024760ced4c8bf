/** Starts the whole `npm start` system in-process on free ports, with its data in a temporary folder. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/log.ts';
import { FIXTURE_BUNDLE, startSystem, type System } from '../../../local/system.ts';
import { TEST_CPU_THREADS } from '../../runner/harness.ts';

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cascade-data-'));
}

/** Only the variables the system reads, never the developer's tokens: tests must not connect to Discord or Slack. */
export function testEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  // The README's screenshot is taken with the bundle `npm start` would use (the demo model once it is in models/demo).
  const model: Record<string, string> = process.env.UPDATE_DOCS_SCREENSHOT === '1' ? {} : { MODEL_DIR: FIXTURE_BUNDLE };
  return { WEB_PORT: '0', LOCAL_EMULATOR_PORT: '0', DATA_DIR: dataDir, ...model, ORT_CPU_THREADS: String(TEST_CPU_THREADS), LOG_LEVEL: 'error', POLL_WAIT_SECONDS: '1', PROGRESS_INTERVAL_MS: '100', CANCEL_CHECK_MS: '200', ...extra };
}

export function startTestSystem(dataDir: string, extra: Record<string, string> = {}): Promise<System> {
  return startSystem({ env: testEnv(dataDir, extra), log: silentLogger });
}
