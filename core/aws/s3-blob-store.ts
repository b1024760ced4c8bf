/** BlobStore over S3 (or the emulator's S3 API): fixed keys, whole-object reads and writes. */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from '../ports.ts';
import { withServiceErrors } from './service-errors.ts';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
}

export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: S3BlobStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
  }

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.#call(() => this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType })));
  }

  async putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#call(() => this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' })));
        return true;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412) return false;
        // 409 ConditionalRequestConflict: another conditional write of this key was under way; S3 says to retry.
        if (status !== 409 || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const response = await this.#call(() => this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key })));
      return response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.#call(() => this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key })));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const response = await this.#call(() =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const object of response.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async delete(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      await this.#call(() =>
        this.#client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
    }
  }

  presignedUrl(key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), { expiresIn: expiresSeconds });
  }

  #call<T>(operation: () => Promise<T>): Promise<T> {
    return withServiceErrors('S3 bucket', this.#bucket, operation);
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404;
}
