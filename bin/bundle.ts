/**
 * Bundles the runner (and, for inspection, each Lambda handler) with esbuild: one ESM file per entry that
 * holds everything it imports except the native addons, which stay packages (they ship .node binaries and,
 * for onnxruntime-node, the CUDA provider libraries). The runner image (gpu-runner/Dockerfile) runs the
 * runner bundle with plain `node`: no TypeScript sources, no package it does not import (chat SDKs,
 * the emulator, dotenv). SST bundles the Lambdas with esbuild itself from the same entries; bundling them here
 * lets a test check what each function would carry.
 *
 *   npm run bundle                  # → dist/runner/main.mjs + dist/runner/package.json (the natives, exact versions)
 *   npm run bundle -- --all         # also dist/functions/<name>.mjs
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/** Packages with native binaries: installed next to the bundle, never inlined. */
export const NATIVE_PACKAGES = ['onnxruntime-node', 'sharp'] as const;

export const BUNDLE_ENTRIES = {
  runner: 'gpu-runner/main.ts',
  'discord-interactions': 'functions/discord-interactions.ts',
  'slack-events': 'functions/slack-events.ts',
  dispatch: 'functions/dispatch.ts',
  scaler: 'functions/scaler.ts',
} as const;
export type BundleName = keyof typeof BUNDLE_ENTRIES;

export interface BundleResult {
  file: string;
  metafile: Metafile;
  /** The packages whose code is inside the bundle (from esbuild's own input list). */
  packages: Set<string>;
}

/** Package names of the node_modules inputs of a bundle. */
export function bundledPackages(metafile: Metafile): Set<string> {
  const names = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) names.add(match[1]!);
  }
  return names;
}

/** `sourcemap: false` only where nobody reads a stack trace (tests of the bundle's contents). */
export async function bundle(name: BundleName, outFile: string, options: { sourcemap?: boolean } = {}): Promise<BundleResult> {
  const result = await build({
    entryPoints: [join(root, BUNDLE_ENTRIES[name])],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: [...NATIVE_PACKAGES],
    // CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own.
    banner: { js: "import { createRequire as __cascadeCreateRequire } from 'node:module'; const require = __cascadeCreateRequire(import.meta.url);" },
    sourcemap: options.sourcemap === false ? false : 'linked',
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: root,
  });
  return { file: outFile, metafile: result.metafile, packages: bundledPackages(result.metafile) };
}

/** The runner's package.json next to its bundle: only the native packages, at the versions the lockfile resolved. */
export function runnerPackageJson(): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const dependencies = Object.fromEntries(
    NATIVE_PACKAGES.map((name) => {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`${name} is not in package-lock.json`);
      return [name, version];
    }),
  );
  return `${JSON.stringify({ name: 'cascade-runner', private: true, type: 'module', dependencies }, null, 2)}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { all: { type: 'boolean' }, out: { type: 'string' } } });
  const out = resolve(values.out ?? join(root, 'dist'));
  mkdirSync(join(out, 'runner'), { recursive: true });
  const runner = await bundle('runner', join(out, 'runner/main.mjs'));
  writeFileSync(join(out, 'runner/package.json'), runnerPackageJson());
  process.stdout.write(`runner → ${runner.file} (${runner.packages.size} packages inlined; ${NATIVE_PACKAGES.join(', ')} installed beside it)\n`);
  if (values.all) {
    for (const name of Object.keys(BUNDLE_ENTRIES).filter((entry) => entry !== 'runner') as BundleName[]) {
      const fn = await bundle(name, join(out, 'functions', `${name}.mjs`));
      mkdirSync(dirname(fn.file), { recursive: true });
      process.stdout.write(`${name} → ${fn.file} (${fn.packages.size} packages)\n`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
