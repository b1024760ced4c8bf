/**
 * The FleetStatus (bot/fleet.ts) a Lambda front end should use: the GPU fleet's auto-scaling group when
 * FLEET_GROUP_NAME is set (as infra/ deploys it), otherwise "always warm" (self-hosted, `npm start`).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { AutoScalingFleet } from '../core/aws/auto-scaling-fleet.ts';
import { alwaysWarm, type FleetStatus } from '../bot/fleet.ts';

export function fleetStatusFromEnvironment(env: Record<string, string | undefined>): FleetStatus {
  const groupName = env.FLEET_GROUP_NAME?.trim();
  if (!groupName) return alwaysWarm;
  return new AutoScalingFleet({ client: new AutoScalingClient(env.AWS_REGION ? { region: env.AWS_REGION } : {}), groupName });
}
