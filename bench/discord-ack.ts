/**
 * Ack latency of the Discord HTTP interactions handler, in process, over 1000 signed requests each:
 *   1. the ack decision alone (size + Ed25519 verify + JSON + route; no I/O) for /imagine;
 *   2. the Lambda handler as Discord sees it: from the request to the deferral arriving at the
 *      (loopback) callback endpoint, and the whole invocation including the enqueue (fauxqs S3 + SQS).
 * Prints p50/p99/max in ms; asserts nothing.
 *
 *   node bench/discord-ack.ts [count]
 */
import { latencySummary, quantile } from './percentiles.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { createCommandHandlers } from '../bot/discord/command-handlers.ts';
import { answerInteractionRequest, type HttpInteractionDeps } from '../bot/discord/http-endpoint.ts';
import { createDiscordRest } from '../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../bot/discord/verify.ts';
import { createDiscordInteractionsHandler } from '../functions/discord-interactions.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { RecordingDiscordApi } from '../test/discord/support/recording-discord-api.ts';
import { functionUrlEvent, makeSigningKeys, slashCommand } from '../test/discord/support/signed-interactions.ts';

const COUNT = Number(process.argv[2] ?? 1000);

async function main(): Promise<void> {
  const keys = makeSigningKeys();
  const emulator = await startTestEmulator();
  const api = await new RecordingDiscordApi().start();
  const moderation = createModerationPolicy({ blocklist: ['gore', 'blood'], restrictedOnly: ['nude'] });
  const rest = createDiscordRest({ api: api.api });
  const deps: HttpInteractionDeps = {
    handlers: createCommandHandlers({ ...emulator.ports, moderation, maxPendingPerUser: 1000 }),
    moderation,
    rest,
    verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }),
  };
  const imagine = (i: number) =>
    slashCommand('imagine', [{ name: 'prompt', type: 3, value: `a lighthouse in a storm number ${i} --ar 3:2 --chaos 10` }, { name: 'style', type: 3, value: 'cinematic' }], { userId: String(1_500_000_000_000_000_000n + BigInt(i)) });

  // 1. The ack decision alone.
  const decision: number[] = [];
  for (let i = 0; i < COUNT + 50; i++) {
    const event = functionUrlEvent(keys, JSON.stringify(imagine(i)));
    const raw = Buffer.from(event.body!, 'utf8');
    const start = performance.now();
    const answer = answerInteractionRequest(raw, (name) => event.headers[name], deps);
    const elapsed = performance.now() - start;
    if (answer.status !== 200) throw new Error(`unexpected ${answer.status}: ${answer.body}`);
    if (i >= 50) decision.push(elapsed); // the first 50 warm the JIT
  }

  // 2. The Lambda handler: ack seen at the callback endpoint, and the whole invocation.
  const handler = createDiscordInteractionsHandler(deps);
  const ackSeen: number[] = [];
  const invocation: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const payload = imagine(COUNT + 100 + i);
    const event = functionUrlEvent(keys, JSON.stringify(payload));
    api.clear();
    const start = performance.now();
    const startWall = Date.now();
    const response = await handler(event);
    invocation.push(performance.now() - start);
    if (response.statusCode !== 202) throw new Error(`unexpected ${response.statusCode}`);
    const callback = api.requests.find((r) => r.path.endsWith('/callback'));
    if (!callback) throw new Error('no callback recorded');
    ackSeen.push(callback.at - startWall);
  }

  console.log(`Discord ack path (${process.version}, ${COUNT} signed /imagine requests each)`);
  console.log(latencySummary('ack decision (verify + parse + route)', decision, 3));
  console.log(latencySummary('deferral received at callback (ms, wall)', ackSeen, 0));
  console.log(latencySummary('whole Lambda invocation incl. enqueue', invocation, 1));
  console.log(`enqueue share of the invocation at p50: ${(100 * (1 - quantile(decision, 0.5) / quantile(invocation, 0.5))).toFixed(1)} %`);

  await api.stop();
  await emulator.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
