/**
 * Versioned model rollout. Each bundle goes under its own immutable prefix
 * `s3://<bucket>/models/<name>/<version>/`; the one-line object `models/<name>/current` names the version
 * the fleet runs, and every booting instance reads it once (infra/user-data.ts). A rollout uploads a new
 * version beside the old one, checks that every file of the bundle arrived with its size, only then
 * rewrites the pointer (a single PUT: a booting instance sees the old version or the new one, never a
 * half-written folder), and starts an instance refresh that launches replacements before it terminates
 * anything (MinHealthyPercentage 100), so the fleet keeps its capacity while it rolls.
 *
 * @example
 *   await rolloutModel({ s3, autoScaling, upload: runAwsCliSync }, { bundleDir: './out/sc', name: 'stable-cascade', version: '2026-12-07', bucket, fleetGroup })
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StartInstanceRefreshCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { modelKeys } from '../core/storage-layout.ts';
import { MODEL_NAME_PATTERN } from './config.ts';

/** A version is one path segment; `current` is the pointer's own name. */
export const MODEL_VERSION_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const modelPointerKey = modelKeys.pointer;
export const modelVersionPrefix = modelKeys.version;

export interface ModelUploadPlan {
  source: string;
  destination: string;
  /** `aws s3 sync` does multipart, parallel and resumable transfers of multi-GB graphs; a fresh prefix needs no --delete. */
  command: string[];
}

export function planModelUpload(options: { bundleDir: string; name: string; version: string; bucket: string }): ModelUploadPlan {
  if (!MODEL_NAME_PATTERN.test(options.name)) {
    throw new Error(`model name "${options.name}" must be 1–63 chars of a-z, 0-9, ".", "_" and "-" (it becomes models/<name>/)`);
  }
  if (!MODEL_VERSION_PATTERN.test(options.version) || options.version === 'current') {
    throw new Error(`model version "${options.version}" must be 1–63 chars of a-z, 0-9, ".", "_" and "-", and not "current" (it becomes models/<name>/<version>/)`);
  }
  if (!BUCKET_PATTERN.test(options.bucket)) throw new Error(`"${options.bucket}" is not an S3 bucket name`);
  const source = `${resolve(options.bundleDir)}/`;
  const destination = `s3://${options.bucket}/${modelVersionPrefix(options.name, options.version)}`;
  return { source, destination, command: ['aws', 's3', 'sync', source, destination, '--only-show-errors'] };
}

/** Every file of the bundle folder (relative path → bytes), what the uploaded prefix must hold. */
export function bundleFiles(bundleDir: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(bundleDir, path).split('\\').join('/'), statSync(path).size);
    }
  };
  walk(resolve(bundleDir));
  return files;
}

export interface RolloutDeps {
  s3: Pick<S3Client, 'send'>;
  autoScaling: Pick<AutoScalingClient, 'send'>;
  /** Copies the bundle to the plan's destination (the script runs `aws s3 sync`). */
  upload: (plan: ModelUploadPlan) => Promise<void>;
  log?: (line: string) => void;
}

export interface RolloutOptions {
  bundleDir: string;
  name: string;
  version: string;
  bucket: string;
  fleetGroup: string;
}

async function listPrefix(s3: RolloutDeps['s3'], bucket: string, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) found.set(object.Key.slice(prefix.length), object.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** Upload → verify → point → roll. Returns the instance refresh id (undefined when the group was empty). */
export async function rolloutModel(deps: RolloutDeps, options: RolloutOptions): Promise<{ refreshId: string | undefined }> {
  const log = deps.log ?? (() => undefined);
  const plan = planModelUpload(options);
  const prefix = modelVersionPrefix(options.name, options.version);
  const expected = bundleFiles(options.bundleDir);
  if (expected.size === 0) throw new Error(`${options.bundleDir} holds no files`);

  // Versions are immutable: a booting instance may be reading an existing one right now.
  const existing = await listPrefix(deps.s3, options.bucket, prefix);
  if (existing.size > 0) throw new Error(`${plan.destination} already holds ${existing.size} objects: versions are immutable, choose a new version name`);

  log(`uploading ${expected.size} files → ${plan.destination}`);
  await deps.upload(plan);

  const uploaded = await listPrefix(deps.s3, options.bucket, prefix);
  const wrong = [...expected].filter(([path, size]) => uploaded.get(path) !== size).map(([path, size]) => `${path} (${size} bytes, found ${uploaded.get(path) ?? 'nothing'})`);
  if (wrong.length > 0) throw new Error(`upload incomplete, the fleet still runs the previous version: ${wrong.join('; ')}`);

  await deps.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: modelPointerKey(options.name), Body: options.version, ContentType: 'text/plain' }));
  log(`s3://${options.bucket}/${modelPointerKey(options.name)} → ${options.version} (instances that boot from now on load it)`);

  try {
    const refresh = await deps.autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: options.fleetGroup,
        Strategy: 'Rolling',
        // Launch each replacement (and wait until it is InService = ready) before terminating an old instance.
        Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: false },
      }),
    );
    log(`instance refresh ${refresh.InstanceRefreshId ?? '?'} started on ${options.fleetGroup}`);
    return { refreshId: refresh.InstanceRefreshId };
  } catch (error) {
    if (error instanceof Error && error.name === 'InstanceRefreshInProgressFault') {
      throw new Error(`the pointer now names ${options.version}, but an instance refresh is already running on ${options.fleetGroup}: start one when it ends (aws autoscaling start-instance-refresh …)`, { cause: error });
    }
    throw error;
  }
}

/** The bucket and fleet group of the last `sst deploy` from this checkout (SST writes .sst/outputs.json). */
export function deployedOutputs(outputsPath: string): { bucket: string; fleetGroup: string } {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(outputsPath, 'utf8'));
  } catch {
    throw new Error(`${outputsPath} not found or not JSON: run \`npx sst deploy\` first, or pass --bucket and --fleet-group`);
  }
  const { bucket, fleetGroup } = outputs as { bucket?: unknown; fleetGroup?: unknown };
  if (typeof bucket !== 'string' || bucket === '') throw new Error(`${outputsPath} has no "bucket" output; pass --bucket <name>`);
  if (typeof fleetGroup !== 'string' || fleetGroup === '') throw new Error(`${outputsPath} has no "fleetGroup" output; pass --fleet-group <name>`);
  return { bucket, fleetGroup };
}
