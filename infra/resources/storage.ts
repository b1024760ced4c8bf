/**
 * The private bucket: job records and outputs under jobs/ (expire after the retention), per-user
 * pending markers under pending/ (stale after an hour, removed after a day), settings/ and the model
 * bundles under models/ (kept). SST blocks all public access and enforces HTTPS by default.
 */
import type { InfraConfig } from '../config.js';

export function createStorage(config: InfraConfig) {
  const bucket = new sst.aws.Bucket('Images', {
    enforceHttps: true,
    lifecycle: [
      { id: 'expire-job-outputs', prefix: 'jobs/', expiresIn: `${config.storage.jobRetentionDays} days` },
      { id: 'expire-pending-markers', prefix: 'pending/', expiresIn: '1 day' },
    ],
  });
  return { bucket };
}
