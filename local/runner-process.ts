/**
 * Runs and supervises the runner child (./runner-child.ts) for `npm start`: waits for its `ready`
 * message (a model that fails to load is a start-up error with the child's reason), restarts it with
 * back-off when it dies (one line per crash and per restart), and on stop sends SIGTERM (the runner
 * finishes or releases the job in flight) and waits for it, with SIGKILL after a bounded time.
 * The child is in its own process group, so a Ctrl-C in the terminal reaches only this process, which
 * then stops the runner in its turn; if this process dies, the child sees its IPC channel close and leaves.
 *
 * @example
 *   const runner = await startRunnerProcess({ env: { ...queuesEnv, MODEL_DIR: bundleDir }, say: console.log });
 *   runner.runnerId // → 'host-4242'
 *   await runner.stop();
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunnerChildMessage } from './runner-child.ts';
import { RUNNER_NODE_FLAGS } from '../gpu-runner/node-flags.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD_ENTRY = resolve(ROOT, 'local/runner-child.ts');
/** Waits before restart attempt 1, 2, 3, … (the last repeats); back to the first after a runner has lived STABLE_MS. */
const RESTART_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];
const STABLE_MS = 60_000;

export interface RunnerProcessOptions {
  /** The child's whole environment: queue URLs, endpoint, bucket, MODEL_DIR, … */
  env: Record<string, string | undefined>;
  /** Lines for people: crashes and restarts. */
  say?: (line: string) => void;
  /** How long stop() waits after SIGTERM before SIGKILL (the runner's own drain limit plus a margin). */
  stopTimeoutMs: number;
}

export interface RunnerProcess {
  /** The id the current runner reports in its events. */
  readonly runnerId: string;
  /** The current child's process id (undefined between a crash and its restart). */
  readonly pid: number | undefined;
  /** How many times the runner has been restarted after a crash. */
  readonly restarts: number;
  stop(): Promise<void>;
}

export async function startRunnerProcess(options: RunnerProcessOptions): Promise<RunnerProcess> {
  const say = options.say ?? (() => undefined);
  const env = Object.fromEntries(Object.entries({ ...options.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  let child: ChildProcess | undefined;
  let runnerId = '';
  let restarts = 0;
  let failuresInRow = 0;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  // The parent leaving by process.exit (a second Ctrl-C) must not leave a runner behind.
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const launch = async (): Promise<void> => {
    const spawned = fork(CHILD_ENTRY, [], { execArgv: [...RUNNER_NODE_FLAGS], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
    child = spawned;
    runnerId = await waitForReady(spawned);
    const readyAt = Date.now();
    spawned.once('exit', (code, signal) => {
      if (child === spawned) child = undefined;
      if (stopping) return;
      if (Date.now() - readyAt >= STABLE_MS) failuresInRow = 0;
      scheduleRestart(`stopped unexpectedly (${describeExit(code, signal)})`);
    });
  };

  const scheduleRestart = (what: string) => {
    const delay = RESTART_DELAYS_MS[Math.min(failuresInRow, RESTART_DELAYS_MS.length - 1)]!;
    failuresInRow += 1;
    say(`runner     ${what}; restarting in ${delay / 1000} s`);
    restartTimer = setTimeout(() => {
      launch().then(
        () => {
          restarts += 1;
          if (!stopping) say(`runner     ${runnerId} restarted, polling the jobs queue (process ${child?.pid})`);
        },
        (error: unknown) => {
          if (!stopping) scheduleRestart(`could not restart: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    }, delay);
  };

  const stop = async () => {
    stopping = true;
    clearTimeout(restartTimer);
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((done) => running.once('exit', done));
      running.kill('SIGTERM');
      const killer = setTimeout(() => running.kill('SIGKILL'), options.stopTimeoutMs);
      await exited;
      clearTimeout(killer);
    }
    process.off('exit', killOnExit);
  };

  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    get runnerId() { return runnerId; },
    get pid() { return child?.pid; },
    get restarts() { return restarts; },
    stop,
  };
}

/** The runner's id once it says `ready`; its own reason (or how it exited) when it stops before that. */
function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolveReady, reject) => {
    let reason: string | undefined;
    const onMessage = (message: RunnerChildMessage) => {
      if (message.type === 'failed') reason = message.message;
      else if (message.type === 'ready') {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
        resolveReady(message.runnerId);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      child.off('message', onMessage);
      reject(new Error(`the runner could not start: ${reason ?? `its process ${describeExit(code, signal)} before it was ready`}`));
    };
    const onError = (error: Error) => reject(new Error(`the runner process could not be started: ${error.message}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}
