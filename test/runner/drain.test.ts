import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { imagineJob } from './fixtures.ts';
import { spawnRunner, type RunnerChild } from './harness.ts';

const isFinal = (jobId: string) => (e: JobEvent) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry));
const startedOn = (jobId: string) => (line: Record<string, unknown>) => line.msg === 'job started' && line.jobId === jobId;

async function resultOf(emulator: TestEmulator, jobId: string) {
  return ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(jobId)))!)));
}

/** A loopback stand-in for the EC2 instance metadata service (IMDSv2), with a switch for the spot notice. */
async function startFakeImds(): Promise<{ url: string; server: Server; requests: string[]; interrupt(): void }> {
  let notice = false;
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'PUT' && request.url === '/latest/api/token' && request.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void response.end('token-123');
    if (request.headers['x-aws-ec2-metadata-token'] !== 'token-123') return void response.writeHead(401).end();
    if (request.method === 'GET' && request.url === '/latest/meta-data/spot/instance-action' && notice) {
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ action: 'terminate', time: new Date(Date.now() + 120_000).toISOString() }));
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests, interrupt: () => (notice = true) };
}

describe('GIVEN runner processes asked to leave', () => {
  let emulator: TestEmulator;
  const children: RunnerChild[] = [];
  const spawnTracked = (env: Record<string, string>) => {
    const child = spawnRunner({ ...emulator.env(), ...env });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    emulator = await startTestEmulator({ visibilitySeconds: 4, maxReceives: 4 });
  });
  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    await emulator?.stop();
  });

  it('WHEN SIGTERM arrives mid-job with time to spare THEN it finishes that job, takes no new one, and exits 0', async () => {
    const runner = spawnTracked({ TEST_GENERATOR_STEPS: '6', TEST_GENERATOR_STEP_MS: '250', RUNNER_ID: 'runner-term' });
    const job = imagineJob({ userId: 'drain-1' });
    await submitJob(emulator.ports, job);
    await runner.waitForLog(startedOn(job.id));
    runner.child.kill('SIGTERM');
    await runner.waitForLog((line) => line.msg === 'draining');
    const later = imagineJob({ userId: 'drain-2' });
    await submitJob(emulator.ports, later);

    expect((await runner.exited).code).toBe(0);
    expect((await resultOf(emulator, job.id)).runnerId).toBe('runner-term');
    expect(runner.lines.some(startedOn(later.id))).toBe(false);
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 1, inFlight: 0 });

    // The job left behind is not lost: the next runner makes it.
    const next = spawnTracked({ TEST_GENERATOR_STEPS: '1', RUNNER_ID: 'runner-next' });
    await collectEvents(emulator.ports, (all) => all.some(isFinal(later.id)));
    expect((await resultOf(emulator, later.id)).runnerId).toBe('runner-next');
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });

  it('WHEN the job cannot finish before the drain limit THEN it is released at once and made by another runner', async () => {
    const runner = spawnTracked({ TEST_GENERATOR_STEPS: '100', TEST_GENERATOR_STEP_MS: '200', DRAIN_TIMEOUT_SECONDS: '1', RUNNER_ID: 'runner-short' });
    const job = imagineJob({ userId: 'drain-3' });
    await submitJob(emulator.ports, job);
    await runner.waitForLog(startedOn(job.id));
    runner.child.kill('SIGTERM');
    expect((await runner.exited).code).toBe(0);
    const events = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'failed'));
    expect(events.find((e) => e.jobId === job.id && e.type === 'failed')).toMatchObject({ code: 'interrupted', willRetry: true });
    expect(await emulator.ports.blobs.exists(jobKeys.result(job.id))).toBe(false);
    // Released with visibility 0, not left to time out: visible again right away.
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 1, inFlight: 0 });

    const next = spawnTracked({ TEST_GENERATOR_STEPS: '1', RUNNER_ID: 'runner-after' });
    await collectEvents(emulator.ports, (all) => all.some(isFinal(job.id)), 20_000, events);
    expect(events.filter(isFinal(job.id)).map((e) => e.type)).toEqual(['completed']);
    expect((await resultOf(emulator, job.id)).runnerId).toBe('runner-after');
    next.child.kill('SIGTERM');
    await next.exited;
  });

  it('WHEN the instance metadata announces a spot interruption THEN the runner drains and exits 0', async () => {
    const imds = await startFakeImds();
    try {
      const runner = spawnTracked({ TEST_GENERATOR_STEPS: '6', TEST_GENERATOR_STEP_MS: '250', SPOT_METADATA_URL: imds.url, SPOT_POLL_MS: '100', RUNNER_ID: 'runner-spot' });
      const job = imagineJob({ userId: 'drain-4' });
      await submitJob(emulator.ports, job);
      await runner.waitForLog(startedOn(job.id));
      imds.interrupt();
      await runner.waitForLog((line) => line.msg === 'spot interruption notice received');
      expect((await runner.exited).code).toBe(0);
      expect((await resultOf(emulator, job.id)).runnerId).toBe('runner-spot');
      expect(runner.lines.find((line) => line.msg === 'draining')).toMatchObject({ reason: 'spot interruption notice' });
      expect(imds.requests[0]).toBe('PUT /latest/api/token');
      expect(imds.requests).toContain('GET /latest/meta-data/spot/instance-action');
    } finally {
      imds.server.close();
    }
  });
});
