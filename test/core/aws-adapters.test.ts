import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_VERSION } from '../../core/job.ts';
import { PortInUseError } from '../../core/errors.ts';
import { startLocalEmulator } from '../../local/emulator.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { imagineJob } from '../runner/fixtures.ts';

describe('GIVEN the AWS adapters talking HTTP to the local emulator', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ visibilitySeconds: 30 });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN one user queues several jobs THEN only one of theirs is in flight at a time and other users are served meanwhile', async () => {
    const { queue } = emulator.ports;
    const [a1, a2, a3] = [1, 2, 3].map(() => imagineJob({ userId: 'heavy' }));
    const b1 = imagineJob({ userId: 'light' });
    for (const job of [a1!, a2!, a3!, b1]) await queue.send(job);
    expect(await queue.depth()).toEqual({ visible: 4, inFlight: 0 });

    const first = await queue.receive({ waitSeconds: 0 });
    const second = await queue.receive({ waitSeconds: 0 });
    expect([first?.job?.id, second?.job?.id]).toEqual([a1!.id, b1.id]);
    expect(await queue.receive({ waitSeconds: 0 })).toBeNull();

    await queue.delete(first!.receiptHandle);
    const third = await queue.receive({ waitSeconds: 0 });
    expect(third?.job?.id).toBe(a2!.id);
    for (const received of [second!, third!]) await queue.delete(received.receiptHandle);
    const last = await queue.receive({ waitSeconds: 0 });
    expect(last?.job?.id).toBe(a3!.id);
    await queue.delete(last!.receiptHandle);
  });

  it('WHEN the same job is sent twice THEN the queue keeps one copy; a released job comes back with its receive count', async () => {
    const { queue } = emulator.ports;
    const job = imagineJob({ userId: 'twice' });
    await queue.send(job);
    await queue.send(job);
    const received = await queue.receive({ waitSeconds: 0 });
    expect(received).toMatchObject({ receiveCount: 1, job: { id: job.id } });
    await queue.release(received!.receiptHandle);
    const again = await queue.receive({ waitSeconds: 0 });
    expect(again).toMatchObject({ receiveCount: 2, job: { id: job.id } });
    await queue.delete(again!.receiptHandle);
    expect(await queue.receive({ waitSeconds: 0 })).toBeNull();
  });

  it('WHEN a body is not a job THEN receive reports why instead of throwing', async () => {
    await emulator.sendRaw('{"v":1,"id":"x"}', 'web:raw');
    const received = await emulator.ports.queue.receive({ waitSeconds: 0 });
    expect(received?.job).toBeUndefined();
    expect(received?.parseError).toMatch(/kind/);
    await emulator.ports.queue.delete(received!.receiptHandle);
  });

  it('WHEN completed is published twice for one job THEN consumers get it once; progress events all arrive in order', async () => {
    const { events } = emulator.ports;
    const base = { v: WIRE_VERSION, jobId: 'dedupe-me' } as const;
    await events.publish({ ...base, type: 'progress', at: 1, stage: 'prior', step: 1, steps: 2, fraction: 0.5 });
    await events.publish({ ...base, type: 'progress', at: 2, stage: 'prior', step: 2, steps: 2, fraction: 1 });
    await events.publish({ ...base, type: 'completed', at: 3, resultKey: 'jobs/dedupe-me/result.json' });
    await events.publish({ ...base, type: 'completed', at: 4, resultKey: 'jobs/dedupe-me/result.json' });
    const seen: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (const received of await events.receive({ waitSeconds: 0, max: 10 })) {
        seen.push(received.event ? `${received.event.type}@${received.event.at}` : 'unreadable');
        await events.ack(received.receiptHandle);
      }
    }
    expect(seen).toEqual(['progress@1', 'progress@2', 'completed@3']);
  });

  it('WHEN objects are stored THEN get, exists, list, delete and a presigned URL read them back exactly', async () => {
    const { blobs } = emulator.ports;
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 37) & 255);
    await blobs.put('jobs/b1/data.bin', bytes, 'application/octet-stream');
    await blobs.put('jobs/b1/note.txt', 'hello', 'text/plain');
    expect(Buffer.from((await blobs.get('jobs/b1/data.bin'))!).equals(Buffer.from(bytes))).toBe(true);
    expect(await blobs.get('jobs/b1/missing')).toBeNull();
    expect(await blobs.exists('jobs/b1/note.txt')).toBe(true);
    expect(await blobs.exists('jobs/b1/missing')).toBe(false);
    expect((await blobs.list('jobs/b1/')).sort()).toEqual(['jobs/b1/data.bin', 'jobs/b1/note.txt']);
    const response = await fetch(await blobs.presignedUrl('jobs/b1/data.bin', 60));
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    await blobs.delete(['jobs/b1/data.bin', 'jobs/b1/note.txt']);
    expect(await blobs.list('jobs/b1/')).toEqual([]);
  });

  it('WHEN a key is checked and missing THEN the HEAD answer is framed, so the kept-alive connection is reused', async () => {
    await emulator.ports.blobs.put('jobs/h1/present.txt', 'hello', 'text/plain');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const head = (key: string) =>
      new Promise<{ status: number; length: string | undefined; reused: boolean }>((resolve, reject) => {
        const request = http.request(`${emulator.endpoint}/${emulator.bucket}/${key}`, { method: 'HEAD', agent }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode!, length: response.headers['content-length'], reused: request.reusedSocket }));
        });
        request.on('error', reject);
        request.end();
      });
    try {
      expect(await head('jobs/h1/missing')).toMatchObject({ status: 404, length: '0' });
      // Without framing, Node's client closes the socket after a HEAD answer and this one would open a new connection.
      expect(await head('jobs/h1/missing')).toEqual({ status: 404, length: '0', reused: true });
      expect(await head('jobs/h1/present.txt')).toEqual({ status: 200, length: '5', reused: true });
    } finally {
      agent.destroy();
    }
  });

  it('WHEN the emulator port is taken THEN starting another says which port', async () => {
    await expect(startLocalEmulator({ port: emulator.port })).rejects.toThrow(PortInUseError);
    await expect(startLocalEmulator({ port: emulator.port })).rejects.toThrow(`port ${emulator.port} on 127.0.0.1 is already in use`);
  });
});
