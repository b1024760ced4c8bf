/**
 * SDK clients built from config. The same code reaches AWS (no endpoints: the SDK's defaults and
 * credential chain) or the local emulator (explicit endpoints, dummy credentials).
 *
 * `useQueueUrlAsEndpoint: false` matters: by default the SQS client sends each request to the host
 * inside the QueueUrl, and emulator URLs like `sqs.us-east-1.localhost` do not resolve offline
 * (infra-notes §4.2). S3 uses path-style addressing for the same reason.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../config.ts';

/** The emulator checks signatures' shape, not their keys. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Loopback to the emulator: no CRC32 of every upload and download unless the operation requires one
 * (DeleteObjects still sends its checksum), and no SHA-256 of each body for the signature (below). AWS keeps
 * the SDK's defaults, where they guard a real network. Measured: 9 job uploads (1.9 MB) cost ~10–15 % less CPU.
 */
const EMULATOR_CHECKSUMS = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;

export interface ClientTuning {
  /** SDK attempts per call (1 = no SDK-level retry; the worker loop has its own back-off). */
  maxAttempts?: number;
  /** ms to establish a TCP connection before giving up. */
  connectionTimeoutMs?: number;
}

export function createSqsClient(aws: AwsConfig, tuning: ClientTuning = {}): SQSClient {
  return new SQSClient({
    region: aws.region,
    ...(aws.sqsEndpoint ? { endpoint: aws.sqsEndpoint, useQueueUrlAsEndpoint: false } : {}),
    ...credentialsFor(aws, aws.sqsEndpoint),
    maxAttempts: tuning.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: tuning.connectionTimeoutMs ?? 3000 },
  });
}

export function createS3Client(aws: AwsConfig, tuning: ClientTuning = {}): S3Client {
  const client = new S3Client({
    region: aws.region,
    ...(aws.s3Endpoint ? { endpoint: aws.s3Endpoint, forcePathStyle: true, ...EMULATOR_CHECKSUMS } : {}),
    ...credentialsFor(aws, aws.s3Endpoint),
    maxAttempts: tuning.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: tuning.connectionTimeoutMs ?? 3000 },
  });
  if (aws.s3Endpoint) {
    // A preset x-amz-content-sha256 header is signed as is instead of hashing the body.
    client.middlewareStack.add((next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    }, { step: 'build', name: 'emulatorUnsignedPayload' });
  }
  return client;
}

function credentialsFor(aws: AwsConfig, endpoint: string | undefined) {
  if (aws.credentials) return { credentials: aws.credentials };
  return endpoint ? { credentials: EMULATOR_CREDENTIALS } : {};
}
