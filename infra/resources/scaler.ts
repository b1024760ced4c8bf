/** The GPU fleet controller: functions/scaler.ts every minute (the dispatcher nudges it between runs). */
import type { InfraConfig } from '../config.ts';
import { scalerStatements, type AppArns } from '../iam-policies.ts';
import { fleetControlEnvironment, functionEnvironment } from '../runtime-env.ts';
import { appEnvironmentFields, LAMBDA_RUNTIME } from './function-defaults.ts';
import { functionPermissions } from './permissions.ts';
import type { Queues } from './queues.ts';

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
      runtime: LAMBDA_RUNTIME,
      timeout: '30 seconds',
      memory: '256 MB',
      environment: {
        ...functionEnvironment<$util.Input<string>>(appEnvironmentFields({ config, queues, bucket, fleetGroupName })),
        ...fleetControlEnvironment(config.fleet),
      },
      permissions: functionPermissions(arns, scalerStatements),
    },
  });
}
