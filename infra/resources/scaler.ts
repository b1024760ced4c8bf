/** The GPU fleet controller: functions/scaler.ts every minute (the dispatcher nudges it between runs). */
import type { InfraConfig } from '../config.js';
import { scalerStatements, type AppArns } from '../iam-policies.js';
import { fleetControlEnvironment, functionEnvironment } from '../runtime-env.js';
import { functionPermissions } from './permissions.js';
import type { Queues } from './queues.js';

export interface ScalerInputs {
  config: InfraConfig;
  queues: Queues;
  bucket: sst.aws.Bucket;
  fleetGroupName: string;
  arns: $util.Output<AppArns>;
}

export function createScaler({ config, queues, bucket, fleetGroupName, arns }: ScalerInputs) {
  return new sst.aws.Cron('FleetScaler', {
    schedule: 'rate(1 minute)',
    function: {
      handler: 'functions/scaler.handler',
      runtime: 'nodejs22.x',
      timeout: '30 seconds',
      memory: '256 MB',
      environment: {
        ...functionEnvironment<$util.Input<string>>({
          region: aws.getRegionOutput().region,
          jobsQueueUrl: queues.jobs.url,
          eventsQueueUrl: queues.events.url,
          bucket: bucket.name,
          maxReceives: config.jobs.maxReceives,
          visibilitySeconds: config.jobs.visibilitySeconds,
          fleetGroupName,
        }),
        ...fleetControlEnvironment(config.fleet),
      },
      permissions: functionPermissions(arns, scalerStatements),
    },
  });
}
