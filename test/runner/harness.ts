/** Runners for tests: in-process (startRunner) or as a child process (node runs the TypeScript itself), both over HTTP to the emulator. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import type { ImageGenerator } from '../../gpu-runner/generator.ts';

/**
 * onnxruntime threads per CPU session in tests. The suite runs two files at once on 2 cores, so a session's default pool
 * (one thread per core) only contends with the other file: the demo-model evaluation took 22.8 s of CPU with one thread
 * against 28.8 s with two (test/demo-model/quality.test.ts alone, 2 runs each).
 */
export const TEST_CPU_THREADS = 1;

/** Short timings so the suites run in seconds. */
export const FAST_RUNNER_ENV: Record<string, string> = {
  ORT_CPU_THREADS: String(TEST_CPU_THREADS),
  JOB_VISIBILITY_SECONDS: '4',
  HEARTBEAT_SECONDS: '1',
  POLL_WAIT_SECONDS: '1',
  PROGRESS_INTERVAL_MS: '0',
  CANCEL_CHECK_MS: '100',
  RETRY_DELAY_SECONDS: '0',
  DRAIN_TIMEOUT_SECONDS: '90',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
};

export async function startTestRunner(env: Record<string, string>, generator: ImageGenerator, runnerId = 'runner-test'): Promise<RunnerHandle> {
  const config = loadConfig({ ...FAST_RUNNER_ENV, RUNNER_ID: runnerId, ...env });
  return startRunner({ config, generator, handleSignals: false, log: createLogger({ level: config.log.level }) });
}

export interface RunnerChild {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const CHILD_ENTRY = fileURLToPath(new URL('../support/runner-process.ts', import.meta.url));

/** A runner child process; `args` replaces the default entry (the TypeScript runner on Node's type stripping), e.g. a bundle. */
export function spawnRunner(env: Record<string, string>, args: readonly string[] = [CHILD_ENTRY]): RunnerChild {
  const child = spawn(process.execPath, [...args], {
    env: { ...process.env, ...FAST_RUNNER_ENV, LOG_LEVEL: 'info', LOG_JSON: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text, raw: true });
      }
      for (const wake of waiters.splice(0)) wake();
    }
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines,
    exited,
    waitForLog(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`runner log line not seen in ${timeoutMs} ms; last lines: ${JSON.stringify(lines.slice(-5))}`)), timeoutMs);
        const check = () => {
          const found = lines.find(predicate);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}
