/** What every Lambda of the app shares: the runtime, and the app's own resource names in its environment. */
import type { InfraConfig } from '../config.ts';
import type { Queues } from './queues.ts';

export { LAMBDA_RUNTIME } from '../runtime-env.ts';

export interface AppEnvironmentInputs {
  config: InfraConfig;
  queues: Queues;
  bucket: sst.aws.Bucket;
  fleetGroupName: string;
}

/** The runtime-env fields (see runtime-env.ts `functionEnvironment`) every function reads to reach the queues and bucket. */
export function appEnvironmentFields({ config, queues, bucket, fleetGroupName }: AppEnvironmentInputs) {
  return {
    region: aws.getRegionOutput().region,
    jobsQueueUrl: queues.jobs.url,
    eventsQueueUrl: queues.events.url,
    bucket: bucket.name,
    maxReceives: config.jobs.maxReceives,
    visibilitySeconds: config.jobs.visibilitySeconds,
    fleetGroupName,
  };
}
