import { describe, expect, it } from 'vitest';
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { ConfigError } from '../../core/errors.ts';
import { AutoScalingFleet, launchFailureSentence, SCALE_IN_TAG, type FleetSnapshot } from '../../core/aws/auto-scaling-fleet.ts';
import { alwaysWarm, type FleetStatus } from '../../bot/fleet.ts';
import { fleetStatusFromEnvironment } from '../../functions/fleet-status.ts';
import { loadFleetControlSettings, reconcileFleet, type ControllableFleet } from '../../functions/fleet-reconcile.ts';
import { fleetControlEnvironment } from '../../infra/runtime-env.ts';

/** A client whose `send` answers by command class and records every command (unit test only). */
function stubClient(describeOutput: unknown, activities: unknown = { Activities: [] }) {
  const sent: unknown[] = [];
  const client = new AutoScalingClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  client.send = (async (command: unknown) => {
    sent.push(command);
    if (command instanceof DescribeAutoScalingGroupsCommand) return describeOutput;
    if (command instanceof DescribeScalingActivitiesCommand) return activities;
    if (command instanceof SetDesiredCapacityCommand || command instanceof CreateOrUpdateTagsCommand) return {};
    throw new Error(`unexpected command ${String(command)}`);
  }) as AutoScalingClient['send'];
  return { client, sent };
}

const group = (overrides: Record<string, unknown> = {}) => ({
  AutoScalingGroups: [
    {
      AutoScalingGroupName: 'grp',
      DesiredCapacity: 2,
      MinSize: 0,
      MaxSize: 4,
      Instances: [
        { InstanceId: 'i-1', LifecycleState: 'InService' },
        { InstanceId: 'i-2', LifecycleState: 'Pending' },
        { InstanceId: 'i-3', LifecycleState: 'Terminating:Wait' },
      ],
      Tags: [{ Key: SCALE_IN_TAG, Value: '1764151200000' }],
      ...overrides,
    },
  ],
});

describe('AutoScalingFleet adapter', () => {
  it('GIVEN DescribeAutoScalingGroups THEN the snapshot counts in-service and launching instances and reads the scale-in tag', async () => {
    const { client, sent } = stubClient(group());
    const snapshot = await new AutoScalingFleet({ client, groupName: 'grp' }).snapshot();
    expect(snapshot).toEqual({ desired: 2, min: 0, max: 4, inService: 1, launching: 1, scaleInPendingSince: 1764151200000 });
    expect((sent[0] as DescribeAutoScalingGroupsCommand).input).toEqual({ AutoScalingGroupNames: ['grp'] });
  });

  it('GIVEN an empty or garbled tag THEN no scale-in is pending', async () => {
    for (const Tags of [[], [{ Key: SCALE_IN_TAG, Value: '' }], [{ Key: SCALE_IN_TAG, Value: 'soon' }]]) {
      const { client } = stubClient(group({ Tags }));
      expect((await new AutoScalingFleet({ client, groupName: 'grp' }).snapshot()).scaleInPendingSince).toBeUndefined();
    }
  });

  it('GIVEN no instance in service THEN the FleetStatus port says cold ("GPU waking up"), and warm once one is', async () => {
    const cold: FleetStatus = new AutoScalingFleet({ client: stubClient(group({ Instances: [{ LifecycleState: 'Pending' }] })).client, groupName: 'grp' });
    expect(await cold.isWarm()).toBe(false);
    const warm: FleetStatus = new AutoScalingFleet({ client: stubClient(group()).client, groupName: 'grp' });
    expect(await warm.isWarm()).toBe(true);
  });

  it('GIVEN the group is missing THEN the error names it and the variable to check', async () => {
    const { client } = stubClient({ AutoScalingGroups: [] });
    await expect(new AutoScalingFleet({ client, groupName: 'grp' }).snapshot()).rejects.toThrow(/auto-scaling group grp not found \(FLEET_GROUP_NAME/);
  });

  it('GIVEN a resize and a clock update THEN SetDesiredCapacity ignores cooldowns and the tag is written on the group, not propagated', async () => {
    const { client, sent } = stubClient(group());
    const fleet = new AutoScalingFleet({ client, groupName: 'grp' });
    await fleet.setDesired(3);
    await fleet.setScaleInPendingSince(42);
    await fleet.setScaleInPendingSince(undefined);
    expect((sent[0] as SetDesiredCapacityCommand).input).toEqual({ AutoScalingGroupName: 'grp', DesiredCapacity: 3, HonorCooldown: false });
    expect((sent[1] as CreateOrUpdateTagsCommand).input.Tags).toEqual([
      { ResourceId: 'grp', ResourceType: 'auto-scaling-group', Key: SCALE_IN_TAG, Value: '42', PropagateAtLaunch: false },
    ]);
    expect((sent[2] as CreateOrUpdateTagsCommand).input.Tags?.[0]?.Value).toBe('');
  });
});

class FakeFleet implements ControllableFleet {
  readonly calls: string[] = [];
  state: FleetSnapshot;
  constructor(state: FleetSnapshot) {
    this.state = state;
  }
  async snapshot() {
    return { ...this.state };
  }
  async setDesired(desired: number) {
    this.calls.push(`desired=${desired}`);
    this.state.desired = desired;
  }
  async setScaleInPendingSince(since: number | undefined) {
    this.calls.push(`since=${since}`);
    this.state.scaleInPendingSince = since;
  }
}

const snapshot = (desired: number, since?: number): FleetSnapshot => ({ desired, min: 0, max: 4, inService: desired, launching: 0, scaleInPendingSince: since });

describe('FleetStatus for the front ends', () => {
  it('GIVEN repeated isWarm calls THEN the group is described once per cache period', async () => {
    const { client, sent } = stubClient(group());
    let now = 0;
    const fleet = new AutoScalingFleet({ client, groupName: 'grp', warmCacheMs: 10_000, now: () => now });
    await fleet.isWarm();
    now = 9_999;
    await fleet.isWarm();
    expect(sent).toHaveLength(1);
    now = 10_000;
    await fleet.isWarm();
    expect(sent).toHaveLength(2);
  });

  it('GIVEN FLEET_GROUP_NAME THEN the Lambda front ends get the group-backed status, otherwise always warm', async () => {
    expect(fleetStatusFromEnvironment({ FLEET_GROUP_NAME: 'grp', AWS_REGION: 'eu-west-1' })).toBeInstanceOf(AutoScalingFleet);
    expect(fleetStatusFromEnvironment({})).toBe(alwaysWarm);
    expect(fleetStatusFromEnvironment({ FLEET_GROUP_NAME: '  ' })).toBe(alwaysWarm);
  });
});

describe('why the fleet cannot start', () => {
  const now = Date.parse('2026-12-07T20:00:00Z');
  const activity = (statusCode: string, statusMessage: string, minutesAgo: number, description = 'Launching a new EC2 instance.  Status Reason: …') => ({
    Activities: [{ ActivityId: 'a1', AutoScalingGroupName: 'grp', Cause: 'x', Description: description, StatusCode: statusCode, StatusMessage: statusMessage, StartTime: new Date(now - minutesAgo * 60_000), Progress: 100 }],
  });

  it('GIVEN a recent failed launch for the vCPU quota THEN users are told the quota is used up', async () => {
    const { client } = stubClient(group(), activity('Failed', 'You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified instance type belongs to. (VcpuLimitExceeded)', 2));
    const fleet = new AutoScalingFleet({ client, groupName: 'grp', now: () => now });
    expect(await fleet.startProblem()).toMatch(/GPU quota is used up/);
  });

  it('GIVEN no spot capacity, an old failure, a successful launch or a termination THEN the right sentence or none', async () => {
    const capacity = 'We currently do not have sufficient g6.xlarge capacity in the Availability Zone you requested (us-east-1a). (InsufficientInstanceCapacity)';
    const answer = async (output: unknown) => new AutoScalingFleet({ client: stubClient(group(), output).client, groupName: 'grp', now: () => now }).startProblem();
    expect(await answer(activity('Failed', capacity, 1))).toMatch(/no spot capacity/);
    expect(await answer(activity('Failed', capacity, 40))).toBeUndefined();
    expect(await answer(activity('Successful', '', 1))).toBeUndefined();
    expect(await answer(activity('Failed', capacity, 1, 'Terminating EC2 instance: i-0abc'))).toBeUndefined();
    expect(launchFailureSentence('The image id [ami-0] does not exist')).toMatch(/^The GPU failed to start/);
  });
});

describe('reconcileFleet', () => {
  const settings = { jobsPerInstance: 3, scaleInDelayMs: 600_000 };

  it('GIVEN a fleet at zero and a queued job THEN a nudge sets desired to 1 at once and nothing else', async () => {
    const fleet = new FakeFleet(snapshot(0));
    const outcome = await reconcileFleet({ fleet, backlog: { depth: async () => ({ visible: 1, inFlight: 0 }) }, settings, now: () => 1000 }, 'nudge');
    expect(outcome).toMatchObject({ previous: 0, desired: 1, change: 'from-zero' });
    expect(fleet.calls).toEqual(['desired=1']);
  });

  it('GIVEN an idle fleet over successive minutes THEN the clock is stored once, then the fleet is released after the delay', async () => {
    const fleet = new FakeFleet(snapshot(1));
    const idle = { depth: async () => ({ visible: 0, inFlight: 0 }) };
    let now = 0;
    const tick = () => reconcileFleet({ fleet, backlog: idle, settings, now: () => now }, 'reconcile');
    await tick();
    now = 300_000;
    await tick();
    now = 600_000;
    const last = await tick();
    expect(last.change).toBe('scale-in');
    expect(fleet.calls).toEqual(['since=0', 'desired=0', 'since=undefined']);
  });

  it('GIVEN nothing changes THEN no write is made', async () => {
    const fleet = new FakeFleet(snapshot(1));
    await reconcileFleet({ fleet, backlog: { depth: async () => ({ visible: 2, inFlight: 1 }) }, settings }, 'reconcile');
    expect(fleet.calls).toEqual([]);
  });
});

describe('fleet control settings', () => {
  it('GIVEN the environment infra renders THEN the Lambda reads the same settings back', () => {
    const env = { FLEET_GROUP_NAME: 'grp', ...fleetControlEnvironment({ jobsPerInstance: 3, scaleInDelayMinutes: 10 }) };
    expect(loadFleetControlSettings(env)).toEqual({ groupName: 'grp', jobsPerInstance: 3, scaleInDelayMs: 600_000 });
  });

  it('GIVEN missing or bad variables THEN a ConfigError names each', () => {
    try {
      loadFleetControlSettings({ FLEET_JOBS_PER_INSTANCE: '0', FLEET_SCALE_IN_DELAY_SECONDS: 'ten' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([
        "FLEET_GROUP_NAME: required (the GPU fleet's auto-scaling group name)",
        'FLEET_JOBS_PER_INSTANCE: must be a whole number from 1 to 50',
        'FLEET_SCALE_IN_DELAY_SECONDS: must be a whole number from 0 to 14400',
      ]);
    }
  });
});
