/**
 * The environment infra gives each Lambda (infra/runtime-env.ts, as bot-functions.ts and scaler.ts
 * build it) is enough for that Lambda's own code to build itself: names match what the handlers
 * read, nothing required is missing. Each handler is built from that environment alone (no network).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { functionUrlRequest } from '../support/function-url-event.ts';
import { CONFIG_VARIABLES } from '../../core/config.ts';
import { SCALING_VARIABLES } from '../../functions/fleet-reconcile.ts';
import { botPolicyEnvironment, fleetControlEnvironment, functionEnvironment } from '../../infra/runtime-env.ts';

const shared = {
  region: 'eu-west-1',
  jobsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-bot-prod-JobsQueue-abc.fifo',
  eventsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-bot-prod-EventsQueue-abc.fifo',
  bucket: 'cascade-bot-prod-imagesbucket-abc123',
  maxReceives: 4,
  visibilitySeconds: 300,
  fleetGroupName: 'cascade-bot-prod-gpu-fleet',
};
const discord = { discordApplicationId: '123456789012345678', discordPublicKey: 'ab'.repeat(32), discordToken: 'discord-bot-token-value' };
const slack = { slackSigningSecret: 'slack-signing-secret-value', slackBotToken: 'xoxb-slack-bot-token' };
/** Lambda sets AWS_REGION itself (it is reserved, so infra must not). */
const lambdaRuntime = { AWS_REGION: 'eu-west-1' };

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

describe('Lambda environments built by infra', () => {
  const environments = {
    discord: functionEnvironment<string>(shared, discord),
    slack: functionEnvironment<string>(shared, slack),
    dispatcher: { ...functionEnvironment<string>(shared, { ...discord, ...slack }), ...fleetControlEnvironment({ jobsPerInstance: 3, scaleInDelayMinutes: 10 }) },
    scaler: { ...functionEnvironment<string>(shared), ...fleetControlEnvironment({ jobsPerInstance: 3, scaleInDelayMinutes: 10 }) },
    boardDeadlines: functionEnvironment<string>(shared),
    boardPage: functionEnvironment<string>(shared),
    discordWithBoardPage: { ...functionEnvironment<string>(shared, discord), BOARD_PAGE_URL: 'https://abc.lambda-url.eu-west-1.on.aws/' },
  };

  it.each(Object.keys(environments))('GIVEN the %s function THEN every variable it gets is one the code reads, and AWS_REGION is left to Lambda', (name) => {
    const env = environments[name as keyof typeof environments];
    const known = new Set([...CONFIG_VARIABLES, ...Object.values(SCALING_VARIABLES)]);
    expect(Object.keys(env).filter((variable) => !known.has(variable))).toEqual([]);
    expect(env).not.toHaveProperty('AWS_REGION');
    expect(Object.keys(botPolicyEnvironment({ MODERATION_BLOCKLIST: 'x', MAX_PENDING_PER_USER: '2', ALLOWED_CHANNELS: 'C1' })).filter((variable) => !known.has(variable))).toEqual([]);
  });

  it('GIVEN the Discord function env THEN the handler builds and answers an unsigned request 401 (not a configuration error)', async () => {
    Object.assign(process.env, lambdaRuntime, environments.discord);
    const { handler } = await import('../../functions/discord-interactions.ts');
    const event = { body: '{"type":1}', headers: { 'x-signature-ed25519': '00'.repeat(64), 'x-signature-timestamp': String(Math.floor(Date.now() / 1000)) }, isBase64Encoded: false } as unknown as LambdaFunctionURLEvent;
    const response = await handler(event);
    expect(response.statusCode).toBe(401);
  });

  it('GIVEN the Slack function env THEN the handler builds; without the signing secret it names the variable', async () => {
    const { slackEventsHandlerFromEnv } = await import('../../functions/slack-events.ts');
    await expect(slackEventsHandlerFromEnv({ ...lambdaRuntime, ...environments.slack })).resolves.toBeTypeOf('function');
    const { SLACK_SIGNING_SECRET: _secret, ...partial } = environments.slack;
    await expect(slackEventsHandlerFromEnv({ ...lambdaRuntime, ...partial })).rejects.toThrow(/SLACK_SIGNING_SECRET/);
  });

  it('GIVEN the dispatcher env THEN the SQS-triggered handler builds and answers an empty batch with no failures', async () => {
    Object.assign(process.env, lambdaRuntime, environments.dispatcher);
    const { handler } = await import('../../functions/dispatch.ts');
    await expect(handler({ Records: [] }, { getRemainingTimeInMillis: () => 60_000 } as never)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('GIVEN the board deadline env THEN the scheduled handler builds (its first S3 call fails only for want of AWS here)', async () => {
    Object.assign(process.env, lambdaRuntime, environments.boardDeadlines, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' });
    const { handler } = await import('../../functions/board-deadlines.ts');
    await expect(handler()).rejects.toThrow(/127\.0\.0\.1:9|ECONNREFUSED|unavailable/i);
  });

  it('GIVEN the board page env THEN the function-URL handler builds and answers a path that is no board 404', async () => {
    Object.assign(process.env, lambdaRuntime, environments.boardPage);
    const { handler } = await import('../../functions/board-page.ts');
    const response = await handler(functionUrlRequest('GET', '/'));
    expect(response).toMatchObject({ statusCode: 404 });
  });

  it('GIVEN the scaler env THEN the controller builds with the configured settings; without them it names each variable', async () => {
    const { fleetControlFromEnvironment } = await import('../../functions/scaler.ts');
    const deps = fleetControlFromEnvironment({ ...lambdaRuntime, ...environments.scaler });
    expect(deps.settings).toEqual({ groupName: shared.fleetGroupName, jobsPerInstance: 3, scaleInDelayMs: 600_000 });
    expect(() => fleetControlFromEnvironment({ ...lambdaRuntime, ...functionEnvironment<string>(shared) })).toThrow(/FLEET_JOBS_PER_INSTANCE[\s\S]*FLEET_SCALE_IN_DELAY_SECONDS/);
  });
});
