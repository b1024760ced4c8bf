/** In-memory ports for bot UNIT tests only (integration tests use the emulator over HTTP). */
import type { Job, JobEvent } from '../../../core/job.ts';
import type { BlobStore, EventBus, JobQueue, QueueDepth, ReceivedEvent, ReceivedJob } from '../../../core/ports.ts';

export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, Uint8Array>();

  async put(key: string, body: Uint8Array | string, _contentType?: string): Promise<void> {
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  }
  async putIfAbsent(key: string, body: Uint8Array | string, contentType?: string): Promise<boolean> {
    if (this.objects.has(key)) return false;
    await this.put(key, body, contentType);
    return true;
  }
  async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key) ?? null;
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }
  async presignedUrl(key: string): Promise<string> {
    return `memory://${key}`;
  }
  json(key: string): unknown {
    const bytes = this.objects.get(key);
    return bytes ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
  }
  putJson(key: string, value: unknown): void {
    this.objects.set(key, new TextEncoder().encode(JSON.stringify(value)));
  }
}

export class MemoryJobQueue implements JobQueue {
  readonly sent: Job[] = [];
  async send(job: Job): Promise<void> {
    this.sent.push(job);
  }
  async receive(): Promise<ReceivedJob | null> {
    return null;
  }
  async extendVisibility(): Promise<void> {}
  async release(): Promise<void> {}
  async delete(): Promise<void> {}
  async depth(): Promise<QueueDepth> {
    return { visible: this.sent.length, inFlight: 0 };
  }
}

export class MemoryEventBus implements EventBus {
  readonly published: JobEvent[] = [];
  readonly acked: string[] = [];
  async publish(event: JobEvent): Promise<void> {
    this.published.push(event);
  }
  async receive(): Promise<ReceivedEvent[]> {
    return [];
  }
  async ack(receiptHandle: string): Promise<void> {
    this.acked.push(receiptHandle);
  }
}
