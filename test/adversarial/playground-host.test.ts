/**
 * DNS rebinding and cross-site requests (issue #18, item 2): the playground answers only to its own
 * names (127.0.0.1, localhost, [::1] with its port, and a configured public host), and an Origin
 * must be one of them — not merely equal to whatever Host the request claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvents, openSession, postJson, raw } from './support/playground-http.ts';
import { startPlaygroundTarget, type PlaygroundTarget } from './support/playground-target.ts';

let target: PlaygroundTarget;
let cookie: string;

beforeAll(async () => {
  target = await startPlaygroundTarget({ publicHost: 'play.example.org' });
  cookie = await openSession(target.port);
});

afterAll(async () => {
  await target?.stop();
});

const queued = async () => (await target.emulator.ports.queue.depth()).visible;

describe('GIVEN the playground on 127.0.0.1', () => {
  it('WHEN a rebound page sends Host: evil.example with a matching Origin THEN reading the channel, the stream, the page and posting are all refused', async () => {
    const evil = { host: 'evil.example', origin: 'http://evil.example', cookie };
    for (const path of ['/', '/api/messages', '/api/image?key=jobs/j1/image-1.png']) {
      const response = await raw({ port: target.port, path, headers: evil });
      expect(response.status).toBe(421);
      expect((JSON.parse(response.body) as { error: string }).error).toContain('is none of them');
    }
    const stream = await openEvents(target.port, { headers: evil });
    expect(stream.status).toBe(421);
    stream.close();
    const post = await postJson(target.port, '/api/command', { text: 'a fox' }, evil);
    expect(post.status).toBe(421);
    expect(await queued()).toBe(0);
  });

  it.each([
    ['another port of loopback', (port: number) => `127.0.0.1:${port + 1}`],
    ['loopback without the port', () => '127.0.0.1'],
    ['a rebound name with the right port', (port: number) => `evil.example:${port}`],
    ['a look-alike of the public host', () => 'play.example.org.evil.example'],
  ])('WHEN Host is %s THEN it is refused', async (_, host) => {
    const response = await raw({ port: target.port, path: '/api/messages', headers: { host: host(target.port) } });
    expect(response.status).toBe(421);
  });

  it.each([
    ['127.0.0.1', (port: number) => `127.0.0.1:${port}`],
    ['localhost', (port: number) => `localhost:${port}`],
    ['[::1]', (port: number) => `[::1]:${port}`],
    ['the configured public host', () => 'play.example.org'],
  ])('WHEN Host is %s THEN the page answers', async (_, host) => {
    expect((await raw({ port: target.port, path: '/api/messages', headers: { host: host(target.port) } })).status).toBe(200);
  });

  it('WHEN the Host is right but the Origin is another site (or a rebound name) THEN a post is refused and nothing is queued', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${target.port}`, 'null', `https://127.0.0.1:${target.port}`]) {
      const response = await postJson(target.port, '/api/command', { text: 'a fox' }, { origin, cookie });
      expect(response.status).toBe(403);
    }
    expect(await queued()).toBe(0);
  });

  it('WHEN the Origin is one of the playground\'s own names THEN a post goes through', async () => {
    for (const [origin, host] of [[`http://localhost:${target.port}`, `localhost:${target.port}`], ['https://play.example.org', 'play.example.org']] as const) {
      const response = await postJson(target.port, '/api/command', { text: '/info' }, { origin, host, cookie });
      expect(response.status).toBe(200);
    }
  });
});
