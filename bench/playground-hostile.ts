/**
 * Hostile requests against the playground (issue #18): forged and invented session cookies, rebound Host names, foreign Origins, cookieless posts,
 * cap bypass through fresh sessions, event-stream floods, oversized and malformed bodies, other users' delete/cancel, path tricks on /api/image.
 * Runs the playground over the local emulator on 127.0.0.1 (no runner: jobs stay queued) and prints N tried / N wrongly accepted / N 5xx per
 * attack and in all, then checks that the victim's job is untouched.
 *
 *   npm run bench -- playground-hostile [--requests 1200]
 */
import { createAwsPorts } from '../core/aws/index.ts';
import { loadConfig } from '../core/config.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { WebPoster } from '../bot/web/poster.ts';
import { startWebPlayground } from '../bot/web/server.ts';
import { startLocalEmulator } from '../local/emulator.ts';
import { openEvents, openSession, postJson, raw, type OpenStream, type RawResponse } from '../test/adversarial/support/playground-http.ts';

const requestsArg = process.argv.indexOf('--requests');
const REQUESTS = requestsArg > 0 ? Number(process.argv[requestsArg + 1]) : 1200;
const JOBS_PER_CLIENT = 6;
const STREAMS_PER_CLIENT = 8;

const emulator = await startLocalEmulator({ port: 0 });
const ports = createAwsPorts(loadConfig(emulator.env()), { maxAttempts: 1 });
const web = await startWebPlayground({
  bot: { ...ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 3 },
  poster: new WebPoster(ports.blobs),
  port: 0,
  limits: { jobsPerClient: JOBS_PER_CLIENT, streamsPerClient: STREAMS_PER_CLIENT, streamsTotal: 200 },
});
const port = web.port;

// The victim, on their own address.
const victim = await openSession(port, '127.0.0.2');
const victimJob = (JSON.parse((await postJson(port, '/api/command', { text: 'the victim\'s fox --seed 1' }, { cookie: victim }, '127.0.0.2')).body) as { jobId: string }).jobId;
const listing = JSON.parse((await raw({ port, path: '/api/messages' })).body) as { messages: Array<{ jobId: string; ownerId: string }> };
const ownerId = listing.messages.find((message) => message.jobId === victimJob)!.ownerId;
const attacker = await openSession(port);
const streams: OpenStream[] = [];
let capAccepted = 0;
let streamsOpen = 0;

type Verdict = 'refused' | 'wrongly_accepted';
interface Attack {
  name: string;
  run(): Promise<{ response: RawResponse | { status: number }; verdict: Verdict }>;
}
const refusedIf = (response: RawResponse | { status: number }, refused: boolean): Awaited<ReturnType<Attack['run']>> => ({ response, verdict: refused ? 'refused' : 'wrongly_accepted' });
const kindOf = (response: RawResponse) => {
  try {
    return (JSON.parse(response.body) as { kind?: string }).kind;
  } catch {
    return undefined;
  }
};

const attacks: Attack[] = [
  { name: 'cookie = victim\'s owner id, delete', run: async () => { const r = await postJson(port, '/api/button', { customId: `delete:${victimJob}:0` }, { cookie: `cascade_session=${ownerId}` }); return refusedIf(r, r.status === 401); } },
  { name: 'cookie = victim\'s owner id, /cancel', run: async () => { const r = await postJson(port, '/api/command', { text: `/cancel ${victimJob}` }, { cookie: `cascade_session=${ownerId}` }); return refusedIf(r, r.status === 401); } },
  { name: 'invented token', run: async () => { const r = await postJson(port, '/api/command', { text: 'a fox' }, { cookie: `cascade_session=s1.${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}.${'x'.repeat(43)}` }); return refusedIf(r, r.status === 401); } },
  { name: 'old 24-hex cookie', run: async () => { const r = await postJson(port, '/api/command', { text: 'a fox' }, { cookie: 'cascade_session=0123456789abcdef01234567' }); return refusedIf(r, r.status === 401); } },
  { name: 'no cookie', run: async () => { const r = await postJson(port, '/api/command', { text: 'a fox' }); return refusedIf(r, r.status === 401); } },
  { name: 'rebound Host, read', run: async () => { const r = await raw({ port, path: '/api/messages', headers: { host: 'evil.example', origin: 'http://evil.example' } }); return refusedIf(r, r.status === 421); } },
  { name: 'rebound Host, post', run: async () => { const r = await postJson(port, '/api/command', { text: 'a fox' }, { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, cookie: attacker }); return refusedIf(r, r.status === 421); } },
  { name: 'foreign Origin', run: async () => { const r = await postJson(port, '/api/button', { customId: `delete:${victimJob}:0` }, { origin: 'http://evil.example', cookie: victim }, '127.0.0.2'); return refusedIf(r, r.status === 403); } },
  { name: 'own session deletes victim\'s job', run: async () => { const r = await postJson(port, '/api/button', { customId: `delete:${victimJob}:0` }, { cookie: attacker }); return refusedIf(r, kindOf(r) === 'rejected'); } },
  {
    name: 'fresh session per job (cap)',
    run: async () => {
      const cookie = await openSession(port);
      const r = await postJson(port, '/api/command', { text: 'flood' }, { cookie });
      if (kindOf(r) === 'accepted') capAccepted += 1;
      return refusedIf(r, r.status === 429 || capAccepted <= JOBS_PER_CLIENT);
    },
  },
  {
    name: 'event-stream flood',
    run: async () => {
      const stream = await openEvents(port);
      streams.push(stream);
      if (stream.status === 200) streamsOpen += 1;
      return refusedIf(stream, stream.status === 429 || streamsOpen <= STREAMS_PER_CLIENT);
    },
  },
  { name: 'oversized body', run: async () => { const r = await postJson(port, '/api/command', { text: 'x'.repeat(40_000) }, { cookie: attacker }); return refusedIf(r, r.status === 400); } },
  { name: 'malformed JSON', run: async () => { const r = await raw({ port, method: 'POST', path: '/api/command', body: '{"text": ', headers: { cookie: attacker } }); return refusedIf(r, r.status === 400); } },
  { name: 'image key tricks', run: async () => { const r = await raw({ port, path: `/api/image?key=${encodeURIComponent(`jobs/../${['web/session-key', 'pending/web/x', 'jobs/x/job.json'][Math.floor(Math.random() * 3)]}`)}` }); return refusedIf(r, r.status === 400); } },
];

const figures = new Map(attacks.map((attack) => [attack.name, { tried: 0, wrong: 0, fiveHundreds: 0 }]));
const started = performance.now();
for (let i = 0; i < REQUESTS; i++) {
  const attack = attacks[i % attacks.length]!;
  const figure = figures.get(attack.name)!;
  figure.tried += 1;
  const { response, verdict } = await attack.run();
  if (verdict === 'wrongly_accepted') figure.wrong += 1;
  if (response.status >= 500) figure.fiveHundreds += 1;
}
const seconds = (performance.now() - started) / 1000;
for (const stream of streams) stream.close();

const victimIntact = (await ports.blobs.exists(`jobs/${victimJob}/job.json`)) && !(await ports.blobs.exists(`jobs/${victimJob}/cancel.json`));
console.log(`playground-hostile: ${REQUESTS} requests in ${seconds.toFixed(1)} s\n`);
console.log(`${'attack'.padEnd(36)} ${'tried'.padStart(6)} ${'wrongly accepted'.padStart(17)} ${'5xx'.padStart(5)}`);
let total = { tried: 0, wrong: 0, fiveHundreds: 0 };
for (const [name, figure] of figures) {
  console.log(`${name.padEnd(36)} ${String(figure.tried).padStart(6)} ${String(figure.wrong).padStart(17)} ${String(figure.fiveHundreds).padStart(5)}`);
  total = { tried: total.tried + figure.tried, wrong: total.wrong + figure.wrong, fiveHundreds: total.fiveHundreds + figure.fiveHundreds };
}
console.log(`${'all'.padEnd(36)} ${String(total.tried).padStart(6)} ${String(total.wrong).padStart(17)} ${String(total.fiveHundreds).padStart(5)}`);
console.log(`\njobs accepted through fresh sessions: ${capAccepted} (cap per address ${JOBS_PER_CLIENT}); streams held: ${streamsOpen} (limit ${STREAMS_PER_CLIENT}); victim's job untouched: ${victimIntact}`);

await web.stop();
await emulator.stop();
