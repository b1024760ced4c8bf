/**
 * Slack's Request URL (slash commands, buttons, events) as a Lambda function URL, through Bolt's
 * AwsLambdaReceiver. Bolt answers only after the listener has finished, and a Lambda is frozen once it
 * returns, so the listeners' work (placeholder post, records, enqueue: ≈ 10 AWS and Slack calls) cannot
 * run after the answer in the same invocation. On Lambda the request is therefore
 * verify → acknowledge → hand off: the gate below verifies it, the verified request is handed to an
 * asynchronous invocation of this same function (`InvocationType: Event`, one AWS call), and Slack gets
 * its empty 200 at once; the asynchronous invocation runs Bolt and the listeners (every listener here acks
 * with an empty body, so nothing of the answer is lost). Like Discord's acknowledgeThenRun. URL checks
 * (`url_verification`, `ssl_check`) are still answered inline. Without a hand-off (tests, self-hosting)
 * Bolt runs inside the request as before.
 *
 * Around the receiver: a base64 body is decoded as UTF-8 here (the receiver decodes it as ASCII,
 * which breaks the signature of any non-ASCII JSON body); every request passes bot/slack/request-gate.ts
 * first (size → 413; signature, past and future timestamps → 401; an envelope Bolt cannot handle →
 * 400); and nothing that still goes wrong inside Bolt becomes a 5xx (Slack would retry it 3 times).
 *
 * Environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (required), JOBS_QUEUE_URL, EVENTS_QUEUE_URL,
 * BUCKET, MAX_PENDING_PER_USER, MODERATION_BLOCKLIST / MODERATION_RESTRICTED, ALLOWED_WORKSPACES /
 * ALLOWED_CHANNELS (comma-separated Slack team and channel ids); SLACK_API_URL only for tests.
 * Configuration is read on the first invocation, never at import.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { AwsLambdaReceiver } from '@slack/bolt';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { loadConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createAwsPorts } from '../core/aws/index.ts';
import { ConfigError } from '../core/errors.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { createSlackApp } from '../bot/slack/app.ts';
import { screenSlackRequest } from '../bot/slack/request-gate.ts';

type AwsHandler = Awaited<ReturnType<AwsLambdaReceiver['start']>>;
export type SlackLambdaEvent = Parameters<AwsHandler>[0] | LambdaFunctionURLEvent;
export interface SlackLambdaResult {
  statusCode: number;
  headers?: Record<string, boolean | number | string>;
  body: string;
}
export type SlackEventsHandler = (event: SlackLambdaEvent | SlackHandOffEvent, context?: unknown) => Promise<SlackLambdaResult>;

/** A verified Slack request, handed from the function URL invocation to an asynchronous one of the same function. */
export interface SlackHandOffEvent {
  slackHandOff: { headers: Record<string, string | undefined>; body: string };
}

function isHandOff(event: unknown): event is SlackHandOffEvent {
  const handOff = (event as Partial<SlackHandOffEvent> | null)?.slackHandOff;
  return typeof handOff === 'object' && handOff !== null && typeof handOff.body === 'string' && typeof handOff.headers === 'object';
}

/** Requests whose answer is the HTTP body itself (URL checks): never handed off. */
function answersInline(rawBody: string, contentType: string | undefined): boolean {
  if (contentType === 'application/x-www-form-urlencoded') return /(?:^|&)ssl_check=/.test(rawBody);
  return /"type"\s*:\s*"url_verification"/.test(rawBody);
}

export interface SlackEventsHandlerOptions {
  signingSecret: string;
  /**
   * Hands a verified request to an asynchronous invocation (functions/slack-events.ts on Lambda: an async
   * self-invoke). When set, the HTTP answer waits only for this, never for the listeners' work.
   */
  handOff?: (event: SlackHandOffEvent) => Promise<void>;
  /** Never receives tokens or request bodies. */
  log?: Logger;
  /** ms since epoch; for tests. */
  now?: () => number;
}

/** The handler over an already-built receiver (tests build it against the emulator and a recording API). */
export async function createSlackEventsHandler(receiver: AwsLambdaReceiver, options: SlackEventsHandlerOptions): Promise<SlackEventsHandler> {
  const inner = await receiver.start();
  // The gate lets through only signed, well-shaped envelopes and listeners swallow their own errors
  // (bot/slack/app.ts), so whatever Bolt still cannot handle is the request's shape: a 400, never a 5xx.
  const unprocessable = (error: string) => {
    options.log?.warn('slack_request_unprocessable', { error });
    return { statusCode: 400, body: 'request could not be processed' };
  };
  const runBolt = async (headers: Record<string, string | undefined>, rawBody: string, context: unknown): Promise<SlackLambdaResult> => {
    try {
      const response = await inner({ headers, body: rawBody, isBase64Encoded: false } as Parameters<AwsHandler>[0], context);
      return response.statusCode >= 500 ? unprocessable(`bolt answered ${response.statusCode}`) : response;
    } catch (error) {
      return unprocessable(error instanceof Error ? error.message : String(error));
    }
  };
  return async (event, context) => {
    // Only reachable through lambda:InvokeFunction (a function URL event never has this shape): verified already.
    if (isHandOff(event)) return runBolt(event.slackHandOff.headers, event.slackHandOff.body, context);
    const body = event.body ?? '';
    const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const headers = lowerCaseKeys(event.headers ?? {});
    const verdict = screenSlackRequest(rawBody, (name) => headers[name], options);
    if (!verdict.ok) return { statusCode: verdict.status, body: verdict.reason };
    if (!options.handOff || answersInline(rawBody, headers['content-type'])) return runBolt(headers, rawBody, context);
    try {
      await options.handOff({ slackHandOff: { headers, body: rawBody } });
    } catch (error) {
      // Nothing was handed off (the Invoke call failed): do the work here, late rather than lost.
      options.log?.warn('slack_hand_off_failed', { error: error instanceof Error ? error.message : String(error) });
      return runBolt(headers, rawBody, context);
    }
    return { statusCode: 200, body: '' };
  };
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

export async function slackEventsHandlerFromEnv(env: Record<string, string | undefined>): Promise<SlackEventsHandler> {
  const config = loadConfig(env);
  const { botToken, signingSecret } = config.slack;
  const missing = [
    botToken ? undefined : 'SLACK_BOT_TOKEN: required (OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
    signingSecret ? undefined : 'SLACK_SIGNING_SECRET: required (Basic Information → App Credentials → Signing Secret)',
  ].filter((issue): issue is string => issue !== undefined);
  if (missing.length > 0 || !botToken || !signingSecret) throw new ConfigError(missing);
  const bot = { ...createAwsPorts(config), moderation: createModerationPolicy(config.moderation), maxPendingPerUser: config.maxPendingPerUser, ...(config.boards.pageBaseUrl ? { boardPageBaseUrl: config.boards.pageBaseUrl } : {}) };
  const log = createLogger({ json: true, level: config.log.level, fields: { component: 'slack-events' } });
  const { receiver } = createSlackApp({ transport: 'lambda', botToken, signingSecret, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}) }, { bot, log });
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
  return createSlackEventsHandler(receiver!, { signingSecret, log, ...(functionName ? { handOff: selfInvoke(new LambdaClient({ region: config.aws.region }), functionName) } : {}) });
}

/** The hand-off on Lambda: an asynchronous invocation of this same function with the verified request. */
export function selfInvoke(client: Pick<LambdaClient, 'send'>, functionName: string): (event: SlackHandOffEvent) => Promise<void> {
  return async (event) => {
    const answer = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
    if (answer.StatusCode !== 202) throw new Error(`asynchronous invocation answered ${answer.StatusCode ?? 'nothing'}`);
  };
}

let cached: Promise<SlackEventsHandler> | undefined;

export const handler: SlackEventsHandler = async (event, context) => {
  cached ??= slackEventsHandlerFromEnv(process.env);
  return (await cached)(event, context);
};
