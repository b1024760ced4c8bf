/**
 * Event-stream floods (issue #18, item 8): one address may hold a few streams, all clients together a
 * bounded number; a refusal is a 429 with a sentence, and a closed stream frees its slot.
 * Other loopback addresses (127.0.0.2, …) stand for other clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvents, type OpenStream } from './support/playground-http.ts';
import { startPlaygroundTarget, type PlaygroundTarget } from './support/playground-target.ts';

let target: PlaygroundTarget;
const PER_CLIENT = 4;
const TOTAL = 10;

beforeAll(async () => {
  target = await startPlaygroundTarget({ limits: { streamsPerClient: PER_CLIENT, streamsTotal: TOTAL } });
});

afterAll(async () => {
  await target?.stop();
});

describe('GIVEN a playground with 4 streams per client and 10 in all', () => {
  it('WHEN one client opens 50 streams THEN 4 are live and 46 get 429 with a sentence; another client still gets its own', async () => {
    const streams: OpenStream[] = [];
    try {
      for (let i = 0; i < 50; i++) streams.push(await openEvents(target.port));
      const statuses = streams.map((stream) => stream.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(PER_CLIENT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(50 - PER_CLIENT);
      const refused = streams.find((stream) => stream.status === 429)!;
      await expect.poll(() => refused.text().length).toBeGreaterThan(0);
      expect((JSON.parse(refused.text()) as { error: string }).error).toBe(`Too many live connections from your address (the limit is ${PER_CLIENT}): close other playground tabs, then reload.`);
      expect(refused.headers['retry-after']).toBe('30');
      const other = await openEvents(target.port, { from: '127.0.0.2' });
      streams.push(other);
      expect(other.status).toBe(200);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('WHEN many clients each open their share THEN the 11th stream in all is refused with the global sentence, and closing one frees a slot', async () => {
    const streams: OpenStream[] = [];
    try {
      for (const from of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) for (let i = 0; i < PER_CLIENT; i++) streams.push(await openEvents(target.port, { from }));
      const statuses = streams.map((stream) => stream.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(TOTAL);
      const refused = streams.filter((stream) => stream.status === 429);
      expect(refused).toHaveLength(2);
      await expect.poll(() => refused[0]!.text().length).toBeGreaterThan(0);
      expect((JSON.parse(refused[0]!.text()) as { error: string }).error).toBe(`The playground has ${TOTAL} live connections open, its limit: try again in a minute.`);
      streams.find((stream) => stream.status === 200)!.close();
      await expect.poll(async () => {
        const again = await openEvents(target.port, { from: '127.0.0.6' });
        streams.push(again);
        return again.status;
      }).toBe(200);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
