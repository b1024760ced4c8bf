/** Board deadlines: functions/board-deadlines.ts every minute (why a sweep and not a schedule per board: see there). */
import type { InfraConfig } from '../config.ts';
import { boardDeadlineStatements, type AppArns } from '../iam-policies.ts';
import { functionEnvironment } from '../runtime-env.ts';
import { appEnvironmentFields, LAMBDA_RUNTIME } from './function-defaults.ts';
import { functionPermissions } from './permissions.ts';
import type { Queues } from './queues.ts';

export interface BoardDeadlineInputs {
  config: InfraConfig;
  queues: Queues;
  bucket: sst.aws.Bucket;
  fleetGroupName: string;
  arns: $util.Output<AppArns>;
}

export function createBoardDeadlines({ config, queues, bucket, fleetGroupName, arns }: BoardDeadlineInputs) {
  return new sst.aws.Cron('BoardDeadlines', {
    schedule: 'rate(1 minute)',
    function: {
      handler: 'functions/board-deadlines.handler',
      runtime: LAMBDA_RUNTIME,
      timeout: '50 seconds',
      memory: '256 MB',
      environment: functionEnvironment<$util.Input<string>>(appEnvironmentFields({ config, queues, bucket, fleetGroupName })),
      permissions: functionPermissions(arns, boardDeadlineStatements),
    },
  });
}
