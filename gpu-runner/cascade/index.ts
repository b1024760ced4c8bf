/**
 * Entry point of the cascade engine: a bundle folder → an ImageGenerator.
 *
 * @example
 *   const generator = await createCascadeGenerator({ bundleDir: 'test/fixtures/cascade-tiny', provider: 'cpu' });
 *   const out = await generator.generate({ kind: 'imagine', prompt: 'a fox', negativePrompt: '', width: 128,
 *     height: 128, seeds: [1, 2, 3, 4], chaos: 0 });
 *   out.images.length; // 4 RgbImage of 128×128; out.latents[0].dims → [16, 3, 3]
 */
import type { ImageGenerator } from '../generator.ts';
import { loadBundle, type LoadOptions } from './bundle.ts';
import { CascadePipeline } from './pipeline.ts';
import type { Provider } from './runtime.ts';
import { SessionPool } from './sessions.ts';
import { ClipTokenizer } from './tokenizer.ts';

export interface CascadeGeneratorOptions {
  /** Local folder holding manifest.json (see gpu-runner/model-source.ts for s3:// bundles). */
  bundleDir: string;
  provider: Provider;
  /** Hold one stage's session at a time (GPUs with little memory); previews are then skipped. */
  lowMemory?: boolean;
  /** CPU provider: threads per onnxruntime session; 0 or absent = onnxruntime's choice (one per core). */
  cpuThreads?: number;
  checkHashes?: LoadOptions['checkHashes'];
}

/** Loads and validates the bundle (manifest, files, every graph's I/O) before returning. */
export async function createCascadeGenerator(options: CascadeGeneratorOptions): Promise<CascadePipeline & ImageGenerator> {
  const bundle = await loadBundle(options.bundleDir, options.checkHashes === undefined ? {} : { checkHashes: options.checkHashes });
  const t = bundle.manifest.tokenizer;
  const tokenizer = await ClipTokenizer.fromFiles(bundle.path(t.vocab), bundle.path(t.merges), {
    maxLength: t.maxLength,
    bosId: t.bosId,
    eosId: t.eosId,
    padId: t.padId,
  });
  const pool = new SessionPool(bundle, options.provider, { lowMemory: options.lowMemory ?? false, cpuThreads: options.cpuThreads });
  try {
    await pool.validateAll();
  } catch (err) {
    await pool.releaseAll();
    throw err;
  }
  return new CascadePipeline(bundle, pool, tokenizer);
}

export { BundleError, loadBundle } from './bundle.ts';
export { CascadePipeline, type DebugOptions } from './pipeline.ts';
export { providerSupport, type Provider } from './runtime.ts';
