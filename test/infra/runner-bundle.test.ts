/**
 * The runner bundle (bin/bundle.ts, what gpu-runner/Dockerfile runs): built with esbuild here, it holds only
 * what the runner imports (no chat SDKs, no emulator, no dotenv, no build tools) and keeps the native
 * packages outside; and it runs: the bundle alone, with plain `node`, loads the tiny cascade fixture on
 * onnxruntime's CPU provider, reports ready, turns a queued job into images over the emulator, and drains on
 * SIGTERM; it names its execution provider at start and stops with what is missing when ORT_PROVIDER asks for one this
 * install lacks. The Lambda bundles carry only their own platform's SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobEvent } from '../../core/job.ts';
import { submitJob } from '../../bot/submit.ts';
import { bundle, NATIVE_PACKAGES, runnerPackageJson, type BundleResult } from '../../bin/bundle.ts';
import { RUNNER_NODE_FLAGS } from '../../gpu-runner/node-flags.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { imagineJob } from '../runner/fixtures.ts';
import { spawnRunner, type RunnerChild } from '../runner/harness.ts';

const root = resolve(import.meta.dirname, '../..');
// Inside the repository, so the bundle's native imports resolve from its node_modules as /app/node_modules does in the image.
const out = join(root, 'node_modules/.cache/cascade-bundle-test');
const TINY = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));
const LEFT_OUT = ['@slack/bolt', '@slack/web-api', 'discord.js', '@discordjs/rest', 'discord-api-types', 'dotenv', 'fauxqs', 'esbuild', 'typescript', 'vite', 'vitest', 'sst'];

let runner: BundleResult;

beforeAll(async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  runner = await bundle('runner', join(out, 'main.mjs'), { sourcemap: false });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('runner bundle contents', () => {
  it('GIVEN the runner bundle THEN it holds the AWS SDK and zod, but no chat SDK, emulator, dotenv or build tool, and no native package', () => {
    expect([...runner.packages]).toEqual(expect.arrayContaining(['@aws-sdk/client-sqs', '@aws-sdk/client-s3', '@aws-sdk/client-auto-scaling', 'zod']));
    expect(LEFT_OUT.filter((name) => runner.packages.has(name))).toEqual([]);
    expect(NATIVE_PACKAGES.filter((name) => runner.packages.has(name))).toEqual([]);
    // The sources are in it: the runner's own modules, not a loader for them.
    const inputs = Object.keys(runner.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['gpu-runner/main.ts', 'gpu-runner/worker.ts', 'core/config.ts']));
    expect(inputs.filter((input) => input.startsWith('bot/'))).toEqual([]);
    const text = readFileSync(runner.file, 'utf8');
    expect(text).toMatch(/from "onnxruntime-node"|import\("onnxruntime-node"\)|require\("onnxruntime-node"\)/);
  });

  it('GIVEN the package.json written beside the bundle THEN it names only the native packages, at the lockfile versions', () => {
    const manifest = JSON.parse(runnerPackageJson()) as { dependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    expect(manifest.dependencies).toEqual(Object.fromEntries(NATIVE_PACKAGES.map((name) => [name, lock.packages[`node_modules/${name}`]!.version])));
  });

  it('GIVEN the Lambda handlers THEN each bundle carries its own platform only, and none the emulator or dotenv', async () => {
    const discord = await bundle('discord-interactions', join(out, 'discord.mjs'), { sourcemap: false });
    const slack = await bundle('slack-events', join(out, 'slack.mjs'), { sourcemap: false });
    expect(discord.packages.has('@discordjs/rest')).toBe(true);
    expect([...discord.packages].filter((name) => name.startsWith('@slack/'))).toEqual([]);
    expect(slack.packages.has('@slack/bolt')).toBe(true);
    expect([...slack.packages].filter((name) => name.startsWith('@discordjs/') || name === 'discord.js')).toEqual([]);
    for (const fn of [discord, slack]) expect(['dotenv', 'fauxqs', 'discord.js'].filter((name) => fn.packages.has(name))).toEqual([]);
  }, 60_000);
});

describe('runner bundle at run time', () => {
  let emulator: TestEmulator;
  let child: RunnerChild;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    child = spawnRunner({ ...emulator.env(), MODEL_DIR: TINY, ORT_PROVIDER: 'cpu', RUNNER_ID: 'bundle-test' }, [...RUNNER_NODE_FLAGS, join(out, 'main.mjs')]);
  }, 60_000);
  afterAll(async () => {
    child?.child.kill('SIGKILL');
    await emulator?.stop();
  });

  it('GIVEN only the bundle THEN it loads the model, reports its cold start, makes a queued job\'s images and drains on SIGTERM', async () => {
    const ready = await child.waitForLog((line) => line.msg === 'cold start: ready', 60_000);
    expect(ready).toMatchObject({ FleetGroup: 'local', _aws: { CloudWatchMetrics: [expect.objectContaining({ Namespace: 'cascade-bot/runner' })] } });
    expect(typeof ready.SessionCreateMs).toBe('number');
    expect(child.lines.find((line) => line.msg === 'onnxruntime execution provider: cpu (ORT_PROVIDER)')).toMatchObject({ provider: 'cpu', cpuThreads: 1 }); // ORT_CPU_THREADS=1 from the test harness

    const job = imagineJob({ prompt: 'a lighthouse from a bundle' });
    await submitJob(emulator.ports, job);
    const events: JobEvent[] = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && (e.type === 'completed' || e.type === 'failed')), 60_000);
    expect(events.filter((e) => e.jobId === job.id).at(-1)).toMatchObject({ type: 'completed' });
    await child.waitForLog((line) => line.msg === 'cold start: first image');

    child.child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  const cudaInstalled = existsSync(join(root, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  it.skipIf(cudaInstalled)('GIVEN ORT_PROVIDER=cuda without the CUDA provider installed THEN it stops at start saying what is missing and how to get it', async () => {
    const cuda = spawnRunner({ ...emulator.env(), MODEL_DIR: TINY, ORT_PROVIDER: 'cuda', RUNNER_ID: 'bundle-test-cuda' }, [...RUNNER_NODE_FLAGS, join(out, 'main.mjs')]);
    expect((await cuda.exited).code).toBe(1);
    const text = cuda.lines.map((line) => String(line.msg)).join('\n');
    expect(text).toMatch(/ORT_PROVIDER=cuda: onnxruntime-node's cuda provider is not installed \(libonnxruntime_providers_cuda\.so is missing .*ONNXRUNTIME_NODE_INSTALL=true/);
    expect(cuda.lines.some((line) => line.msg === 'cold start: ready')).toBe(false);
  }, 60_000);
});
