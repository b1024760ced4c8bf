/**
 * Slack's Request URL (slash commands, buttons, events) as a Lambda function URL, through Bolt's
 * AwsLambdaReceiver. The receiver verifies the signature and answers only after the listener has
 * finished (a Lambda is frozen once it returns), so each listener acks, posts the placeholder and
 * enqueues within the invocation: keep the function warm if cold starts approach a second.
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
import { loadConfig, redactSecrets } from '../core/config.js';
import { createAwsPorts } from '../core/aws/index.js';
import { ConfigError } from '../core/errors.js';
import { createModerationPolicy } from '../bot/moderation.js';
import { createSlackApp } from '../bot/slack/app.js';
import type { SlackListenerDeps, SlackLog } from '../bot/slack/listeners.js';
import { screenSlackRequest } from '../bot/slack/request-gate.js';

type AwsHandler = Awaited<ReturnType<AwsLambdaReceiver['start']>>;
export type SlackLambdaEvent = Parameters<AwsHandler>[0] | LambdaFunctionURLEvent;
export interface SlackLambdaResult {
  statusCode: number;
  headers?: Record<string, boolean | number | string>;
  body: string;
}
export type SlackEventsHandler = (event: SlackLambdaEvent, context?: unknown) => Promise<SlackLambdaResult>;

export interface SlackEventsHandlerOptions {
  signingSecret: string;
  /** Never receives tokens or request bodies. */
  log?: SlackLog;
  /** ms since epoch; for tests. */
  now?: () => number;
}

/** The handler over an already-built receiver (tests build it against the emulator and a recording API). */
export async function createSlackEventsHandler(receiver: AwsLambdaReceiver, options: SlackEventsHandlerOptions): Promise<SlackEventsHandler> {
  const inner = await receiver.start();
  return async (event, context) => {
    const body = event.body ?? '';
    const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const headers = lowerCaseKeys(event.headers ?? {});
    const verdict = screenSlackRequest(rawBody, (name) => headers[name], options);
    if (!verdict.ok) return { statusCode: verdict.status, body: verdict.reason };
    // The gate lets through only signed, well-shaped envelopes and listeners swallow their own errors
    // (bot/slack/app.ts), so whatever Bolt still cannot handle is the request's shape: a 400, never a 5xx.
    const unprocessable = (error: string) => {
      options.log?.('slack_request_unprocessable', { error });
      return { statusCode: 400, body: 'request could not be processed' };
    };
    try {
      const response = await inner({ ...event, body: rawBody, isBase64Encoded: false }, context);
      return response.statusCode >= 500 ? unprocessable(`bolt answered ${response.statusCode}`) : response;
    } catch (error) {
      return unprocessable(error instanceof Error ? error.message : String(error));
    }
  };
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

const log: SlackListenerDeps['log'] = (event, fields) => console.log(redactSecrets(JSON.stringify({ event, ...fields })));

export async function slackEventsHandlerFromEnv(env: Record<string, string | undefined>): Promise<SlackEventsHandler> {
  const config = loadConfig(env);
  const { botToken, signingSecret } = config.slack;
  const missing = [
    botToken ? undefined : 'SLACK_BOT_TOKEN: required (OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
    signingSecret ? undefined : 'SLACK_SIGNING_SECRET: required (Basic Information → App Credentials → Signing Secret)',
  ].filter((issue): issue is string => issue !== undefined);
  if (missing.length > 0 || !botToken || !signingSecret) throw new ConfigError(missing);
  const bot = { ...createAwsPorts(config), moderation: createModerationPolicy(config.moderation), maxPendingPerUser: config.maxPendingPerUser };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken, signingSecret, ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}) }, { bot, log });
  return createSlackEventsHandler(receiver!, { signingSecret, log });
}

let cached: Promise<SlackEventsHandler> | undefined;

export const handler: SlackEventsHandler = async (event, context) => {
  cached ??= slackEventsHandlerFromEnv(process.env);
  return (await cached)(event, context);
};
