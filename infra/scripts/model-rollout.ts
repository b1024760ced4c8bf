/**
 * Roll a new model version out to the GPU fleet (infra/README.md "Upload the model and roll out a new one").
 *
 *   npm run model:rollout -- <bundle-dir> --version <version> [--name stable-cascade] [--bucket <b>] [--fleet-group <g>] [--dry-run]
 *
 * Validates the bundle with the engine's loader (manifest, every named file, sha256s), uploads it with
 * `aws s3 sync` under models/<name>/<version>/, checks every file arrived, points models/<name>/current at it
 * and starts an instance refresh that keeps capacity (infra/model-upload.ts). Needs the AWS CLI and credentials.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { loadBundle } from '../../gpu-runner/cascade/bundle.ts';
import { DEFAULT_MODEL_NAME } from '../config.ts';
import { deployedOutputs, planModelUpload, rolloutModel, type ModelUploadPlan } from '../model-upload.ts';

const USAGE = 'usage: npm run model:rollout -- <bundle-dir> --version <version> [--name <name>] [--bucket <bucket>] [--fleet-group <group>] [--dry-run]\n';

function awsCliSync(plan: ModelUploadPlan): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(plan.command[0], plan.command.slice(1), { stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${plan.command.slice(0, 3).join(' ')} exited with ${code}`))));
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { version: { type: 'string' }, name: { type: 'string' }, bucket: { type: 'string' }, 'fleet-group': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  });
  const bundleDir = positionals[0];
  if (!bundleDir || positionals.length > 1 || !values.version) {
    process.stderr.write(USAGE);
    return 2;
  }
  const bundle = await loadBundle(bundleDir);
  const deployed = values.bucket && values['fleet-group'] ? { bucket: values.bucket, fleetGroup: values['fleet-group'] } : deployedOutputs('.sst/outputs.json');
  const options = {
    bundleDir,
    name: values.name ?? process.env.CASCADE_MODEL_NAME ?? DEFAULT_MODEL_NAME,
    version: values.version,
    bucket: values.bucket ?? deployed.bucket,
    fleetGroup: values['fleet-group'] ?? deployed.fleetGroup,
  };
  const plan = planModelUpload(options);
  process.stdout.write(`bundle ${bundle.manifest.name} is valid → ${plan.destination}\n${plan.command.join(' ')}\n`);
  if (values['dry-run']) return 0;
  const { refreshId } = await rolloutModel(
    { s3: new S3Client({}), autoScaling: new AutoScalingClient({}), upload: awsCliSync, log: (line) => process.stdout.write(`${line}\n`) },
    options,
  );
  process.stdout.write(`done; follow the refresh: aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${options.fleetGroup}${refreshId ? ` --instance-refresh-ids ${refreshId}` : ''}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
