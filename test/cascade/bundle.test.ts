/** Bundle validation: every way a bundle can be wrong is reported at load time, with what was expected and found. */
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CodedError } from '../../core/errors.ts';
import { BundleError, createCascadeGenerator, loadBundle } from '../../gpu-runner/cascade/index.ts';
import { FIXTURE_DIR } from './fixture.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
/** A copy of the fixture bundle whose manifest `edit` may change. */
async function bundleCopy(edit: (manifest: Json & Record<string, Json>) => void = () => {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cascade-bundle-'));
  dirs.push(dir);
  await cp(FIXTURE_DIR, dir, { recursive: true, filter: (src) => !src.includes('goldens') });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Json & Record<string, Json>;
  edit(manifest);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

async function loadError(dir: string): Promise<BundleError> {
  const error = await loadBundle(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(BundleError);
  // A coded error like every other (its code is what logs carry).
  expect(error).toBeInstanceOf(CodedError);
  expect(error).toMatchObject({ code: 'invalid_bundle', name: 'BundleError', context: { bundleDir: dir } });
  return error as BundleError;
}

describe('GIVEN a bundle folder', () => {
  it('WHEN it is intact THEN it loads', async () => {
    const bundle = await loadBundle(await bundleCopy());
    expect(bundle.manifest.name).toBe('cascade-tiny');
  });

  it('WHEN manifest.json is missing THEN the error says so', async () => {
    const dir = await bundleCopy();
    await unlink(join(dir, 'manifest.json'));
    expect((await loadError(dir)).message).toMatch(/manifest\.json not found/);
  });

  it('WHEN manifest.json is not JSON THEN the error says so', async () => {
    const dir = await bundleCopy();
    await writeFile(join(dir, 'manifest.json'), '{ "format": ');
    expect((await loadError(dir)).message).toMatch(/manifest\.json is not valid JSON/);
  });

  it('WHEN a field has the wrong type or value THEN each problem is named by its path', async () => {
    const dir = await bundleCopy((m) => {
      m.prior!.dtype = 'bfloat16';
      delete m.vqgan!.scaleFactor;
    });
    const { problems } = await loadError(dir);
    expect(problems.some((p) => p.startsWith('manifest.json prior.dtype'))).toBe(true);
    expect(problems.some((p) => p.startsWith('manifest.json vqgan.scaleFactor'))).toBe(true);
  });

  it('WHEN a named graph, external-data file or tokenizer file is missing THEN each is listed', async () => {
    const dir = await bundleCopy((m) => {
      m.decoder!.externalData = ['decoder.onnx.data'];
    });
    await unlink(join(dir, 'prior.onnx'));
    await unlink(join(dir, 'tokenizer', 'merges.txt'));
    const { problems } = await loadError(dir);
    expect(problems).toContain('prior.file: file prior.onnx is missing');
    expect(problems).toContain('decoder.externalData[0]: file decoder.onnx.data is missing');
    expect(problems).toContain('tokenizer.merges: file tokenizer/merges.txt is missing');
  });

  it('WHEN a graph does not match its sha256 THEN expected and actual hashes are given', async () => {
    const dir = await bundleCopy((m) => {
      m.vqgan!.sha256 = '0'.repeat(64);
    });
    expect((await loadError(dir)).message).toMatch(/vqgan\.file: vqgan_decoder\.onnx has sha256 [0-9a-f]{64}, the manifest expects 0{64}/);
  });

  it('WHEN the resolution multiple would give Stage B latents that are not multiples of 16 THEN it is rejected', async () => {
    const dir = await bundleCopy((m) => {
      m.resolution!.multiple = 32;
    });
    expect((await loadError(dir)).message).toMatch(/multiple of 16/);
  });

  it('WHEN the manifest names an input the graph does not have THEN expected vs actual inputs are reported at load', async () => {
    const dir = await bundleCopy((m) => {
      (m.prior!.inputs as Json).clipImg = 'clip_image';
    });
    const error = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu' }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(BundleError);
    const { problems } = error as BundleError;
    expect(problems).toContain('prior: input clip_image (float32) expected, the graph has inputs sample, timestep_ratio, clip_text_pooled, clip_text, clip_img');
    expect(problems).toContain('prior: the graph has an unexpected input clip_img (float32)');
  });

  it('WHEN the manifest promises float16 I/O for a float32 graph THEN the wrong dtype is reported per input and output', async () => {
    const dir = await bundleCopy((m) => {
      m.decoder!.dtype = 'float16';
    });
    const error = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu', lowMemory: true }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(BundleError);
    const { problems } = error as BundleError;
    expect(problems).toContain('decoder: input sample expected float16, the graph has float32');
    expect(problems).toContain('decoder: output eps expected float16, the graph has float32');
    expect(problems.some((p) => p.includes('timestep_ratio'))).toBe(false);
  });

  describe('AND optional image encoders', () => {
    const CLIP = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };
    const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

    it('WHEN the encoders\' sizes disagree with Stage C THEN both mismatches are named', async () => {
      const dir = await bundleCopy((m) => {
        m.imageEncoder = { file: 'previewer.onnx', dtype: 'float32', size: 32, embedSize: 8, ...CLIP };
        m.effnetEncoder = { file: 'previewer.onnx', dtype: 'float32', cell: 32, channels: 4, ...IMAGENET };
      });
      const { problems } = await loadError(dir);
      expect(problems).toContain('imageEncoder.embedSize 8 differs from prior.clipImageSize 24 (the embeddings feed clip_img)');
      expect(problems).toContain('effnetEncoder.channels 4 differs from geometry.priorChannels 16 (its output is a Stage C latent)');
    });

    it('WHEN a declared encoder file is missing or its normalisation is not three positive numbers THEN each is listed', async () => {
      const dir = await bundleCopy((m) => {
        m.imageEncoder = { file: 'image_encoder.onnx', dtype: 'float32', size: 32, embedSize: 24, ...CLIP, std: [0.2, 0, 0.2] };
        m.effnetEncoder = { file: 'effnet_encoder.onnx', dtype: 'float32', cell: 32, channels: 16, ...IMAGENET, mean: [0.5, 0.5] };
      });
      const { problems } = await loadError(dir);
      expect(problems.some((p) => p.startsWith('manifest.json imageEncoder.std.1'))).toBe(true);
      expect(problems.some((p) => p.startsWith('manifest.json effnetEncoder.mean'))).toBe(true);
      const dir2 = await bundleCopy((m) => {
        m.imageEncoder = { file: 'no_such_encoder.onnx', dtype: 'float32', size: 32, embedSize: 24, ...CLIP };
      });
      expect((await loadError(dir2)).problems).toContain('imageEncoder.file: file no_such_encoder.onnx is missing');
    });

    it('WHEN a declared encoder graph has the wrong shapes THEN load reports the shape the manifest implies', async () => {
      // The previewer ([B,16,h,w] latents → RGB) posing as both encoders: names fit, shapes do not.
      const dir = await bundleCopy((m) => {
        m.imageEncoder = { file: 'previewer.onnx', dtype: 'float32', input: 'latents', output: 'image', size: 32, embedSize: 24, ...CLIP };
      });
      const error = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu' }).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(BundleError);
      const message = (error as BundleError).message;
      expect(message).toMatch(/imageEncoder: input latents has shape \[batch, 16, height, width\], the manifest implies \[\?, 3, 32, 32\]/);
      expect(message).toMatch(/imageEncoder: output image has shape \[[^\]]*\], the manifest implies \[\?, 24\]/);
      const effnetOnly = await bundleCopy((m) => {
        m.effnetEncoder = { file: 'previewer.onnx', dtype: 'float32', input: 'latents', output: 'image', cell: 32, channels: 16, ...IMAGENET };
      });
      const effnetError = await createCascadeGenerator({ bundleDir: effnetOnly, provider: 'cpu' }).then(() => undefined, (err: unknown) => err);
      expect((effnetError as BundleError).message).toMatch(/effnetEncoder: input latents has shape \[batch, 16, height, width\], the manifest implies \[\?, 3, \?, \?\]/);
    });
  });
});
