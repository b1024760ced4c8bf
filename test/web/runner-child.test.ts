/**
 * `npm start`'s runner is a supervised child process (local/runner-process.ts): killed with SIGKILL in
 * the middle of a job, it is restarted, and the job it held comes back on the queue and is finished by
 * the new runner. Everything real: the emulator over HTTP, the runner child with the tiny ONNX bundle.
 */
import { readFile, rm } from 'node:fs/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../core/aws/index.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { loadResult } from '../../bot/job-records.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { runCommand } from '../../bot/web/commands.ts';
import type { System } from '../../local/system.ts';
import { silentLogger } from '../../core/log.ts';
import { startSystem } from '../../local/system.ts';
import { makeDataDir, testEnv } from './support/system.ts';
import { RUNNER_NODE_FLAGS } from '../../gpu-runner/node-flags.ts';

/** The runner child's command line (Linux), to see the Node flags it was started with. */
async function commandLineOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function jobsInFlight(system: System): Promise<number> {
  const sqs = createSqsClient(system.config.aws, { maxAttempts: 1 });
  try {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: system.config.jobsQueueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  } finally {
    sqs.destroy();
  }
}

describe('GIVEN npm start with its runner in a child process', () => {
  it('WHEN the runner is killed (SIGKILL) during a job THEN it is restarted and the job is finished by the new runner', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // A short visibility timeout: the killed runner's job reappears within seconds, not the default 5 minutes.
    const lines: string[] = [];
    const system = await startSystem({ env: testEnv(dataDir, { JOB_VISIBILITY_SECONDS: '3', HEARTBEAT_SECONDS: '1' }), log: silentLogger, say: (line) => lines.push(line) });
    cleanups.push(() => system.stop());
    const first = { pid: system.runner.pid, runnerId: system.runner.runnerId };
    expect(first.pid).toBeTypeOf('number');
    expect(first.pid).not.toBe(process.pid);
    expect(await commandLineOf(first.pid!)).toEqual(expect.arrayContaining([...RUNNER_NODE_FLAGS]));

    const bot = { ...system.ports, moderation: createModerationPolicy({ blocklist: [] }) };
    const reply = await runCommand(bot, 'aaaaaaaaaaaaaaaa', 'a lighthouse at dusk --seed 7 --steps 100 --size large');
    if (reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(reply)}`);
    await expect.poll(() => jobsInFlight(system), { timeout: 30_000, interval: 50 }).toBe(1);
    process.kill(first.pid!, 'SIGKILL');
    expect(await system.ports.blobs.exists(jobKeys.result(reply.jobId))).toBe(false);

    await expect.poll(() => system.runner.restarts, { timeout: 30_000, interval: 100 }).toBe(1);
    expect(system.runner.pid).toBeTypeOf('number');
    expect(system.runner.pid).not.toBe(first.pid);
    expect(system.runner.runnerId).not.toBe(first.runnerId);
    expect(await commandLineOf(system.runner.pid!)).toEqual(expect.arrayContaining([...RUNNER_NODE_FLAGS]));
    expect(lines).toContain('runner     stopped unexpectedly (killed by SIGKILL); restarting in 1 s');
    expect(lines).toContain(`runner     ${system.runner.runnerId} restarted, polling the jobs queue (process ${system.runner.pid})`);
    await expect.poll(() => system.ports.blobs.exists(jobKeys.result(reply.jobId)), { timeout: 60_000, interval: 200 }).toBe(true);
    expect((await loadResult(system.ports.blobs, reply.jobId))?.runnerId).toBe(system.runner.runnerId);
  }, 120_000);
});
