/**
 * Scheduled (every minute) GPU fleet controller Lambda: a thin adapter over reconcileFleet.
 * Reading SQS attributes directly is real-time, unlike CloudWatch's per-minute SQS metrics.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { loadConfig } from '../core/config.ts';
import { createSqsClient, SqsJobQueue } from '../core/aws/index.ts';
import { AutoScalingFleet } from '../core/aws/auto-scaling-fleet.ts';
import { createLogger } from '../core/log.ts';
import { loadFleetControlSettings, reconcileFleet, type ReconcileDeps } from './fleet-reconcile.ts';

let deps: ReconcileDeps | undefined;

/** Built on the first invocation and reused while the Lambda instance lives. */
export function fleetControlFromEnvironment(env: Record<string, string | undefined>): ReconcileDeps {
  const config = loadConfig(env);
  const settings = loadFleetControlSettings(env);
  if (!config.jobsQueueUrl) throw new Error('JOBS_QUEUE_URL: required by the fleet controller');
  return {
    fleet: new AutoScalingFleet({ client: new AutoScalingClient({ region: config.aws.region }), groupName: settings.groupName }),
    backlog: new SqsJobQueue({ client: createSqsClient(config.aws), queueUrl: config.jobsQueueUrl }),
    settings,
  };
}

export async function handler(): Promise<{ desired: number; change: string }> {
  deps ??= fleetControlFromEnvironment(process.env);
  const outcome = await reconcileFleet(deps, 'reconcile');
  const log = createLogger({ json: true });
  log.info('fleet_reconciled', { ...outcome });
  return { desired: outcome.desired, change: outcome.change };
}
