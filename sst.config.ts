/// <reference path="./.sst/platform/config.d.ts" />
/**
 * cascade-bot on AWS: `npx sst deploy --stage <stage>` (see infra/README.md).
 * Resources live in infra/resources/ (one file per group); pure logic in infra/*.ts.
 * SST evaluates this file itself, so modules are imported inside run(), not at the top.
 */
export default $config({
  async app(input) {
    const { stageRemovalPolicy } = await import('./infra/stages.ts');
    return { name: 'cascade-bot', ...stageRemovalPolicy(input?.stage), home: 'aws' };
  },
  async run() {
    const { loadInfraConfig } = await import('./infra/config.ts');
    const { createSecrets } = await import('./infra/resources/secrets.ts');
    const { createStorage } = await import('./infra/resources/storage.ts');
    const { createQueues } = await import('./infra/resources/queues.ts');
    const { createNetwork } = await import('./infra/resources/network.ts');
    const { createFleet } = await import('./infra/resources/fleet.ts');
    const { createBotFunctions } = await import('./infra/resources/bot-functions.ts');
    const { createScaler } = await import('./infra/resources/scaler.ts');
    const { createBoardDeadlines } = await import('./infra/resources/board-deadlines.ts');
    const { createBoardPage } = await import('./infra/resources/board-page.ts');
    const { createAlarms } = await import('./infra/resources/alarms.ts');

    const { stageSettings } = await import('./infra/stages.ts');
    const config = loadInfraConfig(process.env, stageSettings($app.stage));
    const secrets = createSecrets(config.platforms);
    const { bucket } = createStorage(config);
    const queues = createQueues(config);
    const network = createNetwork();
    const appArns = $resolve({ jobsQueue: queues.jobs.arn, jobsDlq: queues.jobsDlq.arn, eventsQueue: queues.events.arn, bucket: bucket.arn });
    const fleet = createFleet({ config, network, queues, bucket, appArns });
    const arns = fleet.arns;
    const boardPage = createBoardPage({ config, queues, bucket, fleetGroupName: fleet.groupName, arns });
    const functions = createBotFunctions({ config, queues, bucket, secrets, fleetGroupName: fleet.groupName, arns, boardPageUrl: boardPage.url });
    const scaler = createScaler({ config, queues, bucket, fleetGroupName: fleet.groupName, arns });
    const boardDeadlines = createBoardDeadlines({ config, queues, bucket, fleetGroupName: fleet.groupName, arns });
    createAlarms(config, queues, fleet.groupName, [
      ...(functions.discord ? [{ id: 'DiscordInteractions', name: functions.discord.name }] : []),
      ...(functions.slack ? [{ id: 'SlackEvents', name: functions.slack.name }] : []),
      { id: 'Dispatcher', name: functions.dispatcher.name },
      { id: 'FleetScaler', name: scaler.nodes.function.name },
      { id: 'BoardDeadlines', name: boardDeadlines.nodes.function.name },
      { id: 'BoardPage', name: boardPage.name },
    ]);

    return {
      discordInteractionsUrl: functions.discord?.url,
      slackEventsUrl: functions.slack?.url,
      boardPageUrl: boardPage.url,
      bucket: bucket.name,
      modelPrefix: $interpolate`s3://${bucket.name}/models/${config.model.name}/`,
      runnerRepository: fleet.repository.repositoryUrl,
      fleetGroup: fleet.groupName,
      jobsQueue: queues.jobs.url,
    };
  },
});
