/**
 * Static checks of the runner image (no Docker engine here): the Dockerfile's promises (multi-stage, CUDA 12 +
 * cuDNN 9 runtime, CUDA provider at build time, non-root, health check) and, most usefully, that everything
 * the runner imports at run time is inside the build context and among the production dependencies
 * (`npm ci --omit=dev`), so the image cannot crash on a missing module.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { importClosure, root } from './import-closure.js';
import { RUNNER_NODE_FLAGS } from '../../gpu-runner/node-flags.js';

const dockerfile = readFileSync(join(root, 'gpu-runner/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

describe('runner image', () => {
  it('GIVEN the Dockerfile THEN it is multi-stage: dependencies built apart from a CUDA 12 + cuDNN 9 runtime', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    expect(froms).toHaveLength(2);
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:12\.[0-9.]+-cudnn-runtime-ubuntu[0-9.]+$/m);
    expect(froms[1]).toBe('FROM ${CUDA_IMAGE} AS runtime');
    expect(instructions).toContain('COPY --from=deps /usr/local/bin/node /usr/local/bin/node');
  });

  it('GIVEN the dependency stage THEN the CUDA provider is requested before npm ci and checked after it', () => {
    const env = instructions.findIndex((line) => line === 'ENV ONNXRUNTIME_NODE_INSTALL=cuda12');
    const install = instructions.findIndex((line) => line.startsWith('RUN npm ci --omit=dev'));
    expect(env).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(env);
    expect(instructions[install]).toContain('libonnxruntime_providers_cuda.so');
  });

  it('GIVEN the runtime stage THEN it runs as a non-root user, with a health check, the CUDA provider and the runner entry point', () => {
    const users = instructions.filter((line) => line.startsWith('USER '));
    expect(users).toEqual(['USER runner']);
    expect(instructions.findIndex((line) => line === 'USER runner')).toBeLessThan(instructions.findIndex((line) => line.startsWith('CMD ')));
    expect(instructions.some((line) => line.startsWith('HEALTHCHECK ') && line.includes('CMD '))).toBe(true);
    expect(dockerfile).toMatch(/ORT_PROVIDER=cuda/);
    // The same Node flags as the runner process npm start forks (gpu-runner/node-flags.ts).
    const cmd = instructions.at(-1)!;
    expect(cmd.startsWith('CMD ')).toBe(true);
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', ...RUNNER_NODE_FLAGS, '--import', 'tsx', 'gpu-runner/main.ts']);
  });

  it('GIVEN the runner entry point THEN every file it imports is copied into the image and every package is a production dependency', () => {
    const copied = instructions.filter((line) => line.startsWith('COPY ') && !line.includes('--from=')).map((line) => line.split(/\s+/).at(-2)!);
    const { files, packages } = importClosure('gpu-runner/main.ts');
    const outside = [...files].map((file) => relative(root, file)).filter((file) => !copied.some((dir) => file.startsWith(`${dir}/`)));
    expect(outside).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const missing = [...packages, 'tsx'].filter((name) => !(name in manifest.dependencies));
    expect(missing).toEqual([]);
    for (const name of ['onnxruntime-node', 'sharp', '@aws-sdk/client-sqs', 'zod']) expect(packages).toContain(name);
  });

  it('GIVEN the build context filter THEN it admits only package files, core/ and gpu-runner/', () => {
    const ignore = readFileSync(join(root, 'gpu-runner/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'));
    expect(ignore).toEqual(['!package.json', '!package-lock.json', '!.npmrc', '!tsconfig.json', '!core/', '!gpu-runner/']);
  });
});
