/** Bundle validation: every way a bundle can be wrong is reported at load time, with what was expected and found. */
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleError, createCascadeGenerator, loadBundle } from '../../gpu-runner/cascade/index.js';
import { FIXTURE_DIR } from './fixture.js';

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
});
