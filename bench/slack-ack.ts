/**
 * Ack latency of the Slack app, in process, on loopback:
 *   1. Socket Mode: a slash-command envelope sent over the WebSocket → its ack received back
 *      (Bolt acks before the listener posts the placeholder and enqueues);
 *   2. HTTP (the Lambda handler): a signed /imagine → the HTTP response, which is the ack Slack sees.
 *      AwsLambdaReceiver answers only after the listener finished, so this includes the placeholder
 *      post (recording API) and the enqueue (fauxqs S3 + SQS);
 *   3. the Block Kit renderer alone for a finished grid.
 * Prints p50/p99/max in ms; asserts nothing.
 *
 *   node bench/slack-ack.ts [count]
 */
import { jobKeys } from '../core/storage-layout.ts';
import { jobIdFrom } from '../core/ids.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { buildJobMessage } from '../bot/message-model.ts';
import { createSlackApp } from '../bot/slack/app.ts';
import { renderSlackMessage } from '../bot/slack/blocks.ts';
import { startSlackSocketMode } from '../bot/slack/socket-mode.ts';
import { createSlackEventsHandler } from '../functions/slack-events.ts';
import { latencySummary } from './percentiles.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { RecordingSlackApi } from '../test/slack/support/recording-slack-api.ts';
import { SocketModeLink } from '../test/slack/support/socket-mode-link.ts';
import { FORM, SIGNING_SECRET, signedEvent, slashCommandBody } from '../test/slack/support/signed-requests.ts';
import { resultOf, slackJob } from '../test/slack/support/fixtures.ts';

const COUNT = Number(process.argv[2] ?? 300);
const WARMUP = 30;


function command(i: number, prefix: string) {
  return {
    team_id: 'T0001', channel_id: 'C0001', user_id: `U${prefix}${i}`, command: '/imagine',
    text: `a lighthouse in a storm number ${i} --ar 3:2 --chaos 10`, trigger_id: `${prefix}.${i}.bench`, response_url: 'http://127.0.0.1:9/unused',
  };
}

async function main(): Promise<void> {
  const [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const link = new SocketModeLink(api.httpServer);
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: ['gore', 'blood'], restrictedOnly: ['nude'] }), maxPendingPerUser: 1000 };

  // 1. Socket Mode envelope → ack.
  const socket = await startSlackSocketMode({ botToken: 'xoxb-bench', appToken: 'xapp-bench', apiUrl: api.url, bot });
  await link.connected;
  const socketAck: number[] = [];
  const socketBusy: number[] = [];
  for (let i = 0; i < COUNT + WARMUP; i++) {
    const elapsed = await link.send({ envelope_id: `env-${i}`, type: 'slash_commands', payload: command(i, 'S'), accepts_response_payload: true });
    if (i >= WARMUP) socketAck.push(elapsed);
    // Let this command's placeholder and enqueue finish, so the next ack is measured on an idle process.
    while (!(await bot.blobs.exists(jobKeys.job(jobIdFrom(`slack:S.${i}.bench`))))) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Back to back: each ack competes with the previous commands' placeholder posts and enqueues.
  for (let i = 0; i < COUNT; i++) {
    socketBusy.push(await link.send({ envelope_id: `env-busy-${i}`, type: 'slash_commands', payload: command(i, 'B'), accepts_response_payload: true }));
  }
  await api.waitFor(() => api.callsOf('chat.postMessage').length >= 2 * COUNT + WARMUP, 120_000);
  await socket.stop();
  await link.close();

  // 2. The Lambda handler, request → response.
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-bench', signingSecret: SIGNING_SECRET, apiUrl: api.url }, { bot });
  const handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
  const lambdaAck: number[] = [];
  for (let i = 0; i < COUNT + WARMUP; i++) {
    const event = signedEvent(slashCommandBody(command(i, 'H')), FORM);
    const start = performance.now();
    const response = await handle(event);
    const elapsed = performance.now() - start;
    if (response.statusCode !== 200) throw new Error(`unexpected ${response.statusCode}`);
    if (i >= WARMUP) lambdaAck.push(elapsed);
  }

  // 3. Renderer alone.
  const job = slackJob({ messageTs: '1700000000.000100' });
  const message = buildJobMessage(job, { phase: 'completed', result: resultOf(job), updatedAt: 1 });
  const render: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const start = performance.now();
    renderSlackMessage(message, { imageFileId: 'F0123ABCDE' });
    if (i >= 500) render.push(performance.now() - start);
  }

  console.log(latencySummary('Socket Mode envelope → ack (idle process)', socketAck, 3, 48));
  console.log(latencySummary('Socket Mode envelope → ack (back to back)', socketBusy, 3, 48));
  console.log(latencySummary('HTTP (Lambda handler) request → response/ack', lambdaAck, 3, 48));
  console.log(latencySummary('renderSlackMessage (finished grid)', render, 3, 48));
  await Promise.all([api.stop(), emulator.stop()]);
}

await main();
