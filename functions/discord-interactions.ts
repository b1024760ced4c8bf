/**
 * Discord's Interactions Endpoint URL as a Lambda function URL.
 *
 * Verify → route (no I/O) → either answer in the body (PING, autocomplete, ephemeral refusals), or
 * post the deferral to Discord's callback endpoint, run the enqueue and return 202: a Lambda is
 * frozen once it returns, so "answer first, work after" has to happen inside the invocation.
 * Configuration is read on the first invocation, never at import.
 *
 * Environment: DISCORD_PUBLIC_KEY (required), DISCORD_APPLICATION_ID, DISCORD_TOKEN (optional here),
 * JOBS_QUEUE_URL, EVENTS_QUEUE_URL, BUCKET, MAX_PENDING_PER_USER, MODERATION_* / ALLOWED_* lists.
 */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { loadConfig } from '../core/config.ts';
import { createAwsPorts } from '../core/aws/index.ts';
import { ConfigError } from '../core/errors.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { answerInteractionRequest, type HttpInteractionDeps } from '../bot/discord/http-endpoint.ts';
import { acknowledgeThenRun } from '../bot/discord/acks.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createInteractionVerifier } from '../bot/discord/verify.ts';
import { wireDiscord } from '../bot/discord/wiring.ts';

/** Always the structured form (status, headers, body), never a bare string. */
export type FunctionUrlResponse = Exclude<LambdaFunctionURLResult, string>;
export type DiscordInteractionsHandler = (event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse>;

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The handler over explicit deps (tests build them against the emulator and a recording API). */
export function createDiscordInteractionsHandler(deps: HttpInteractionDeps): DiscordInteractionsHandler {
  return async (event) => {
    const rawBody = event.body === undefined ? new Uint8Array() : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const header = (name: string) => event.headers[name] ?? event.headers[name.toLowerCase()];
    const answer = answerInteractionRequest(rawBody, header, deps);
    if (answer.status !== 200) return { statusCode: answer.status, headers: JSON_HEADERS, body: answer.body };
    if (!answer.route.afterAck) return { statusCode: 200, headers: JSON_HEADERS, body: answer.body };
    const acked = await acknowledgeThenRun(deps.rest, answer.route, deps.log);
    // 202: the response was given through the callback endpoint. 500 if even that failed (nothing was enqueued).
    return acked ? { statusCode: 202 } : { statusCode: 500, headers: JSON_HEADERS, body: JSON.stringify({ error: 'could not acknowledge the interaction' }) };
  };
}

let cached: DiscordInteractionsHandler | undefined;

function fromEnvironment(env: Record<string, string | undefined>): DiscordInteractionsHandler {
  const config = loadConfig(env);
  if (!config.discord.publicKey) throw new ConfigError(['DISCORD_PUBLIC_KEY: required (the application\'s public key from the developer portal)']);
  const ports = createAwsPorts(config);
  const moderation = createModerationPolicy(config.moderation);
  const bot = { ...ports, moderation, maxPendingPerUser: config.maxPendingPerUser, ...(config.boards.pageBaseUrl ? { boardPageBaseUrl: config.boards.pageBaseUrl } : {}) };
  const log: Logger = createLogger({ json: true, level: config.log.level, fields: { component: 'discord-interactions' } });
  const discord = wireDiscord(config, bot, { ...(env.DISCORD_API_URL ? { api: env.DISCORD_API_URL } : {}), log });
  return createDiscordInteractionsHandler({ ...discord.router, verify: createInteractionVerifier({ publicKeyHex: config.discord.publicKey }) });
}

export const handler: DiscordInteractionsHandler = async (event) => {
  cached ??= fromEnvironment(process.env);
  return cached(event);
};
