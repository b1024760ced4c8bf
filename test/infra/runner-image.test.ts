/**
 * Static checks of the runner image (no Docker engine here): the Dockerfile's promises (a bundle stage, a natives
 * stage, a CUDA 12 + cuDNN 9 runtime on Node 24, the CUDA provider forced at build time with a value
 * onnxruntime-node's own install script reads as "install", non-root, health check, the bundle as the command),
 * and that everything the bundle is built from is inside the build context. That the bundle itself runs and holds
 * only what the runner imports is test/infra/runner-bundle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { importClosure, root } from './import-closure.ts';
import { RUNNER_NODE_FLAGS } from '../../gpu-runner/node-flags.ts';
import { NATIVE_PACKAGES } from '../../bin/bundle.ts';
import { LAMBDA_RUNTIME } from '../../infra/runtime-env.ts';

const dockerfile = readFileSync(join(root, 'gpu-runner/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const stage = (name: string) => {
  const start = instructions.findIndex((line) => line.startsWith('FROM ') && line.endsWith(` AS ${name}`));
  const end = instructions.findIndex((line, index) => index > start && line.startsWith('FROM '));
  return instructions.slice(start, end === -1 ? undefined : end);
};

describe('runner image', () => {
  it('GIVEN the Dockerfile THEN it is multi-stage: bundle and natives on Node 24, then a CUDA 12 + cuDNN 9 runtime', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    expect(froms).toEqual(['FROM ${NODE_IMAGE} AS bundle', 'FROM ${NODE_IMAGE} AS natives', 'FROM ${CUDA_IMAGE} AS runtime']);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:12\.[0-9.]+-cudnn-runtime-ubuntu[0-9.]+$/m);
    expect(stage('runtime')).toContain('COPY --from=natives /usr/local/bin/node /usr/local/bin/node');
  });

  it('GIVEN the bundle stage THEN it builds bin/bundle.ts from the runner sources', () => {
    expect(stage('bundle')).toContain('RUN node bin/bundle.ts --out /out');
  });

  it('GIVEN the natives stage THEN the CUDA provider install is forced with a value onnxruntime-node reads as "install", then checked', () => {
    const natives = stage('natives');
    const env = natives.find((line) => line.startsWith('ENV ONNXRUNTIME_NODE_INSTALL='));
    expect(env).toBeDefined();
    const value = env!.split('=')[1]!;
    // onnxruntime-node 1.30's own flag parser: `true` forces the platform's manifests (linux/x64: cuda12);
    // `cuda12` would come back undefined (the "download if missing" default the image used to rely on).
    const { parseInstallFlag } = createRequire(import.meta.url)('onnxruntime-node/script/install-utils.js') as { parseInstallFlag: () => unknown };
    const saved = process.env.ONNXRUNTIME_NODE_INSTALL;
    try {
      process.env.ONNXRUNTIME_NODE_INSTALL = value;
      expect(parseInstallFlag()).toBe(true);
      process.env.ONNXRUNTIME_NODE_INSTALL = 'cuda12';
      expect(parseInstallFlag()).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.ONNXRUNTIME_NODE_INSTALL;
      else process.env.ONNXRUNTIME_NODE_INSTALL = saved;
    }
    const install = natives.findIndex((line) => line.startsWith('RUN npm install --omit=dev'));
    expect(install).toBeGreaterThan(natives.indexOf(env!));
    expect(natives[install]).toContain('libonnxruntime_providers_cuda.so');
    expect(natives).toContain('COPY --from=bundle /out/runner/package.json ./');
  });

  it('GIVEN the runtime stage THEN it holds the bundle, the natives and nothing else of the repository, runs as non-root, with a health check', () => {
    const runtime = stage('runtime');
    const copies = runtime.filter((line) => line.startsWith('COPY '));
    expect(copies.every((line) => line.includes('--from='))).toBe(true);
    expect(copies.some((line) => line.includes('/out/runner/main.mjs'))).toBe(true);
    expect(runtime).toContain('USER runner');
    expect(runtime.findIndex((line) => line === 'USER runner')).toBeLessThan(runtime.findIndex((line) => line.startsWith('CMD ')));
    expect(runtime.some((line) => line.startsWith('HEALTHCHECK ') && line.includes('CMD '))).toBe(true);
    expect(dockerfile).toMatch(/ORT_PROVIDER=cuda/);
    // The same Node flags as the runner process npm start forks (gpu-runner/node-flags.ts), then the bundle.
    const cmd = instructions.at(-1)!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', ...RUNNER_NODE_FLAGS, 'main.mjs']);
    expect(dockerfile).not.toMatch(/gpu-runner\/main\.ts"/);
  });

  it('GIVEN the runner entry point THEN every file it imports is in the bundle stage, and its native packages are the ones installed beside the bundle', () => {
    const copied = stage('bundle').filter((line) => line.startsWith('COPY ') && !line.includes('--from=')).map((line) => line.split(/\s+/).at(-2)!);
    const { files, packages } = importClosure('gpu-runner/main.ts');
    const outside = [...files].map((file) => relative(root, file)).filter((file) => !copied.some((dir) => file.startsWith(`${dir}/`)));
    expect(outside).toEqual([]);
    for (const name of NATIVE_PACKAGES) expect(packages).toContain(name);
  });

  it('GIVEN the build context filter THEN it admits only package files, core/, gpu-runner/ and the bundler', () => {
    const ignore = readFileSync(join(root, 'gpu-runner/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'));
    expect(ignore).toEqual(['!package.json', '!package-lock.json', '!.npmrc', '!tsconfig.json', '!core/', '!gpu-runner/', '!bin/bundle.ts']);
  });

  it('GIVEN package.json engines THEN the image\'s Node and the Lambda runtime are that same major', () => {
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = /^>=(\d+)$/.exec(engines)?.[1];
    expect(major).toBe('24');
    expect(LAMBDA_RUNTIME).toBe(`nodejs${major}.x`);
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${major}-bookworm-slim`);
  });
});
