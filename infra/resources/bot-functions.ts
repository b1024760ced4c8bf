/**
 * The Lambda functions: the Discord interactions endpoint and the Slack events endpoint (function URLs
 * to register with each platform), and the events dispatcher subscribed to the events queue.
 * Handlers live in functions/; each role gets only the statements infra/iam-policies.ts gives it.
 */
import type { InfraConfig } from '../config.ts';
import { dispatcherStatements, frontEndStatements, lambdaFunctionArn, selfInvokeStatement, type AppArns } from '../iam-policies.ts';
import { botPolicyEnvironment, fleetControlEnvironment, functionEnvironment } from '../runtime-env.ts';
import { functionPermissions } from './permissions.ts';
import { DISPATCHER_TIMEOUT_SECONDS, type Queues } from './queues.ts';
import type { Secrets } from './secrets.ts';
import { appEnvironmentFields, LAMBDA_RUNTIME as RUNTIME } from './function-defaults.ts';

export interface BotFunctionInputs {
  config: InfraConfig;
  queues: Queues;
  bucket: sst.aws.Bucket;
  secrets: Secrets;
  fleetGroupName: string;
  arns: $util.Output<AppArns>;
  /** The board page function's URL: the base of the page links the bot shows. */
  boardPageUrl: $util.Input<string>;
}

export function createBotFunctions({ config, queues, bucket, secrets, fleetGroupName, arns, boardPageUrl }: BotFunctionInputs) {
  const shared = appEnvironmentFields({ config, queues, bucket, fleetGroupName });
  const discordSecrets = secrets.discord
    ? { discordApplicationId: secrets.discord.applicationId.value, discordPublicKey: secrets.discord.publicKey.value, discordToken: secrets.discord.botToken.value }
    : {};
  const botSettings = { ...botPolicyEnvironment(process.env), BOARD_PAGE_URL: boardPageUrl };
  const slackSecrets = secrets.slack ? { slackSigningSecret: secrets.slack.signingSecret.value, slackBotToken: secrets.slack.botToken.value } : {};

  const discord = secrets.discord
    ? new sst.aws.Function('DiscordInteractions', {
        handler: 'functions/discord-interactions.handler',
        runtime: RUNTIME,
        url: true,
        timeout: '10 seconds',
        memory: '512 MB',
        // A public URL: a flood of (even unsigned) requests stops at this many concurrent copies.
        concurrency: { reserved: config.frontEndConcurrency },
        environment: { ...functionEnvironment<$util.Input<string>>(shared, discordSecrets), ...botSettings },
        permissions: functionPermissions(arns, frontEndStatements),
      })
    : undefined;

  // Named, so that its policy can grant it to invoke itself (the asynchronous hand-off) before it exists.
  const slackFunctionName = `${$app.name}-${$app.stage}-slack-events`;
  const slackFunctionArn = $resolve([aws.getPartitionOutput().partition, aws.getRegionOutput().region, aws.getCallerIdentityOutput().accountId]).apply(
    ([partition, region, accountId]) => lambdaFunctionArn({ partition, region, accountId, functionName: slackFunctionName }),
  );
  const slack = secrets.slack
    ? new sst.aws.Function('SlackEvents', {
        name: slackFunctionName,
        handler: 'functions/slack-events.handler',
        runtime: RUNTIME,
        url: true,
        timeout: '10 seconds',
        memory: '512 MB',
        concurrency: { reserved: config.frontEndConcurrency },
        environment: { ...functionEnvironment<$util.Input<string>>(shared, slackSecrets), ...botSettings },
        permissions: $resolve([arns, slackFunctionArn] as const).apply(([resolved, self]) =>
          [...frontEndStatements(resolved as AppArns), selfInvokeStatement(self)].map((statement) => ({ actions: statement.Action, resources: statement.Resource })),
        ),
      })
    : undefined;
  if (slack) {
    // A hand-off that fails is not retried: the request's own signature window would have passed, and
    // the listeners answer users themselves.
    // Named through the function's own output, so it is created after the function.
    new aws.lambda.FunctionEventInvokeConfig('SlackEventsHandOff', { functionName: slack.nodes.function.name, maximumRetryAttempts: 0 });
  }

  const dispatcher = queues.events.subscribe(
    {
      handler: 'functions/dispatch.handler',
      runtime: RUNTIME,
      timeout: `${DISPATCHER_TIMEOUT_SECONDS} seconds`,
      memory: '1024 MB',
      // sharp is a native addon: installed for the Lambda's platform instead of bundled.
      nodejs: { install: ['sharp'] },
      environment: {
        ...functionEnvironment<$util.Input<string>>(shared, { ...discordSecrets, ...slackSecrets }),
        ...fleetControlEnvironment(config.fleet),
        ...botSettings,
      },
      permissions: functionPermissions(arns, dispatcherStatements),
    },
    // FIFO: no batching window; partial responses so only undelivered events come back.
    { batch: { size: 10, partialResponses: true } },
  );

  return { discord, slack, dispatcher: dispatcher.nodes.function };
}
