/**
 * Where an exported model bundle goes so the GPU fleet finds it: s3://<bucket>/models/<name>/ (the boot
 * script syncs that prefix onto each instance's cache). The bundle is validated with the engine's own
 * loader before anything is uploaded, so a broken export never reaches the fleet.
 *
 * @example
 *   planModelUpload({ bundleDir: './out/stable-cascade', name: 'stable-cascade', bucket: 'cascade-bot-prod-imagesbucket-x' })
 *   // → { destination: 's3://cascade-bot-prod-imagesbucket-x/models/stable-cascade/', command: ['aws', 's3', 'sync', …] }
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { modelKeys } from '../core/storage-layout.js';
import { MODEL_NAME_PATTERN } from './config.js';

export interface ModelUploadPlan {
  source: string;
  destination: string;
  /** `aws s3 sync` does multipart, parallel and resumable transfers of multi-GB graphs; --delete drops stale files. */
  command: string[];
}

export function planModelUpload(options: { bundleDir: string; name: string; bucket: string }): ModelUploadPlan {
  if (!MODEL_NAME_PATTERN.test(options.name)) {
    throw new Error(`model name "${options.name}" must be 1–63 chars of a-z, 0-9, ".", "_" and "-" (it becomes models/<name>/)`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) throw new Error(`"${options.bucket}" is not an S3 bucket name`);
  const source = `${resolve(options.bundleDir)}/`;
  const destination = `s3://${options.bucket}/${modelKeys.bundle(options.name)}`;
  return { source, destination, command: ['aws', 's3', 'sync', source, destination, '--delete', '--only-show-errors'] };
}

/** The bucket of the last `sst deploy` from this checkout (SST writes .sst/outputs.json). */
export function deployedBucket(outputsPath: string): string {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(outputsPath, 'utf8'));
  } catch {
    throw new Error(`${outputsPath} not found or not JSON: run \`npx sst deploy\` first, or pass --bucket <name>`);
  }
  const bucket = (outputs as { bucket?: unknown }).bucket;
  if (typeof bucket !== 'string' || bucket === '') throw new Error(`${outputsPath} has no "bucket" output; pass --bucket <name>`);
  return bucket;
}
