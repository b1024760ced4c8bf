/**
 * Playground fairness (issue #18, item 7): a client cannot get past the per-user cap by leaving out the
 * cookie or by opening many sessions (the cap also counts per remote address), and the local queue
 * lets users take turns, as FIFO message groups do in SQS, instead of running one user's backlog first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJob } from '../bot/support/fixtures.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { openSession, postJson } from './support/playground-http.ts';
import { startPlaygroundTarget, type PlaygroundTarget } from './support/playground-target.ts';

describe('GIVEN the playground with 3 jobs per session and 6 per client address', () => {
  let target: PlaygroundTarget;

  beforeAll(async () => {
    target = await startPlaygroundTarget({ maxPendingPerUser: 3, limits: { jobsPerClient: 6 } });
  });

  afterAll(async () => {
    await target?.stop();
  });

  const queued = async () => (await target.emulator.ports.queue.depth()).visible;

  it('WHEN 15 posts come without a cookie THEN none makes a job', async () => {
    for (let i = 0; i < 15; i++) {
      const response = await postJson(target.port, '/api/command', { text: `a fox ${i}` });
      expect(response.status).toBe(401);
    }
    expect(await queued()).toBe(0);
  });

  it('WHEN one address opens 20 sessions and posts from all of them at once THEN exactly 6 jobs are accepted and the rest get 429 with a sentence; another address still gets its own', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => openSession(target.port, '127.0.0.7')));
    const responses = await Promise.all(sessions.map((cookie, i) => postJson(target.port, '/api/command', { text: `a fox ${i}` }, { cookie }, '127.0.0.7')));
    const accepted = responses.filter((response) => response.status === 200 && (JSON.parse(response.body) as { kind: string }).kind === 'accepted');
    expect(accepted).toHaveLength(6);
    const refused = responses.filter((response) => response.status === 429);
    expect(refused).toHaveLength(14);
    expect(JSON.parse(refused[0]!.body)).toEqual({
      kind: 'rejected',
      code: 'too_many_pending',
      message: 'Your address already has 6 images in progress, the most it may have at once (whatever the session); wait for one to finish.',
    });
    expect(await queued()).toBe(6);
    // Commands that make no job still answer at the cap.
    expect((JSON.parse((await postJson(target.port, '/api/command', { text: '/help' }, { cookie: sessions[19]! }, '127.0.0.7')).body) as { kind: string }).kind).toBe('info');

    const elsewhere = await openSession(target.port, '127.0.0.8');
    const reply = JSON.parse((await postJson(target.port, '/api/command', { text: 'a bird' }, { cookie: elsewhere }, '127.0.0.8')).body) as { kind: string };
    expect(reply.kind).toBe('accepted');
  });

  it('WHEN a client\'s job ends (deleted here) THEN it may make another', async () => {
    const cookie = await openSession(target.port, '127.0.0.9');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((JSON.parse((await postJson(target.port, '/api/command', { text: `a cat ${i}` }, { cookie }, '127.0.0.9')).body) as { jobId: string }).jobId);
    const second = await openSession(target.port, '127.0.0.9');
    for (let i = 0; i < 3; i++) expect((JSON.parse((await postJson(target.port, '/api/command', { text: `a dog ${i}` }, { cookie: second }, '127.0.0.9')).body) as { kind: string }).kind).toBe('accepted');
    const third = await openSession(target.port, '127.0.0.9');
    expect((await postJson(target.port, '/api/command', { text: 'one more' }, { cookie: third }, '127.0.0.9')).status).toBe(429);
    const deleted = JSON.parse((await postJson(target.port, '/api/button', { customId: `delete:${ids[0]}:0` }, { cookie }, '127.0.0.9')).body) as { action: string };
    expect(deleted.action).toBe('deleted');
    expect((JSON.parse((await postJson(target.port, '/api/command', { text: 'one more' }, { cookie: third }, '127.0.0.9')).body) as { kind: string }).kind).toBe('accepted');
  });
});

describe('GIVEN the local emulator\'s FIFO jobs queue', () => {
  let emulator: TestEmulator;

  beforeAll(async () => {
    emulator = await startTestEmulator();
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN Ann queues 5 jobs, then Ben 2 and Cy 1, and one runner takes them one at a time THEN the users take turns', async () => {
    const requester = (userId: string) => ({ platform: 'web' as const, userId, channelId: 'playground' });
    const sent = [...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => ['ann', id]), ['ben', 'b1'], ['ben', 'b2'], ['cy', 'c1']] as const;
    for (const [user, id] of sent) await emulator.ports.queue.send(makeJob({ id: `j${id}`, requester: requester(user) }));
    const order: string[] = [];
    for (let i = 0; i < sent.length; i++) {
      const received = await emulator.ports.queue.receive({ waitSeconds: 1 });
      if (!received?.job) throw new Error(`nothing received at ${i}`);
      order.push(received.job.id.slice(1));
      await emulator.ports.queue.delete(received.receiptHandle);
    }
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4', 'a5']);
  });
});
