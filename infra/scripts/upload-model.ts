/**
 * Upload an exported model bundle for the GPU fleet (see infra/README.md "Upload the model").
 *
 *   npx tsx infra/scripts/upload-model.ts <bundle-dir> [--name stable-cascade] [--bucket <bucket>] [--dry-run]
 *
 * Validates the bundle (manifest, every named file, sha256s) with the engine's loader, then runs `aws s3 sync`.
 * Needs the AWS CLI and credentials for the deployed account.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadBundle } from '../../gpu-runner/cascade/bundle.js';
import { DEFAULT_MODEL_NAME } from '../config.js';
import { deployedBucket, planModelUpload } from '../model-upload.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, bucket: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  });
  const bundleDir = positionals[0];
  if (!bundleDir || positionals.length > 1) {
    process.stderr.write('usage: npx tsx infra/scripts/upload-model.ts <bundle-dir> [--name <name>] [--bucket <bucket>] [--dry-run]\n');
    return 2;
  }
  const bundle = await loadBundle(bundleDir);
  const plan = planModelUpload({
    bundleDir,
    name: values.name ?? process.env.CASCADE_MODEL_NAME ?? DEFAULT_MODEL_NAME,
    bucket: values.bucket ?? deployedBucket('.sst/outputs.json'),
  });
  process.stdout.write(`bundle ${bundle.manifest.name} is valid → ${plan.destination}\n${plan.command.join(' ')}\n`);
  if (values['dry-run']) return 0;
  return spawnSync(plan.command[0], plan.command.slice(1), { stdio: 'inherit' }).status ?? 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
