/**
 * "This instance is ready": the runner completes the fleet's launch lifecycle hook once the model is
 * loaded and its sessions exist, so Auto Scaling counts the instance InService only from then on (the
 * bot's "GPU waking up" and Capacity Rebalancing both read InService). Until then the instance waits in
 * Pending:Wait; if the runner never gets there, the hook times out with ABANDON and the instance is
 * terminated instead of billed forever (infra/resources/fleet.ts).
 */
import { CompleteLifecycleActionCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { InstanceMetadata } from './worker-imds.ts';
import { createAutoScalingClient } from './worker-protection.ts';

export interface LaunchReadyOptions {
  client: Pick<AutoScalingClient, 'send'>;
  groupName: string;
  hookName: string;
  instanceId: string;
}

/**
 * `completed`: the instance goes InService now. `not-pending`: there was no launch action to complete,
 * i.e. the instance is already in service and this is a restarted runner container. Anything else throws
 * (the container exits and restarts; the host agent gives up on the instance after repeated restarts).
 */
export async function reportLaunchReady(options: LaunchReadyOptions): Promise<'completed' | 'not-pending'> {
  try {
    await options.client.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: options.groupName,
        LifecycleHookName: options.hookName,
        InstanceId: options.instanceId,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    return 'completed';
  } catch (error) {
    // Auto Scaling's answer when the instance has no pending action for this hook.
    if (error instanceof Error && error.name === 'ValidationError' && /No active Lifecycle Action/i.test(error.message)) return 'not-pending';
    throw error;
  }
}

/** On the fleet (hook, group and instance metadata configured): report ready. Elsewhere (npm start, tests) nothing to do. */
export async function announceReady(config: Config, log: Logger): Promise<void> {
  const { launchHookName, fleetGroupName, spotMetadataUrl } = config.runner;
  if (!launchHookName || !fleetGroupName || !spotMetadataUrl) return;
  const instanceId = (await new InstanceMetadata(spotMetadataUrl).get('instance-id'))?.trim();
  if (!instanceId) throw new Error('instance metadata has no instance id: cannot complete the launch hook');
  const outcome = await reportLaunchReady({ client: createAutoScalingClient(config.aws), groupName: fleetGroupName, hookName: launchHookName, instanceId });
  log.info(outcome === 'completed' ? 'launch hook completed: instance in service' : 'no pending launch hook (restarted runner on an in-service instance)', { instanceId });
}
