/**
 * Runs infra/resources/fleet.ts and alarms.ts for real under Pulumi's mock runtime (no AWS): the resource definitions,
 * not only their pure helpers, must give a 100 % spot group over the configured types with capacity
 * rebalancing and the drain hook, a launch template with IMDSv2 (hop limit 2) and the rendered boot
 * script, a runner role policy with the tested statements, and the four alarms wired to the topic.
 * Needs .sst/platform (infra/scripts/sst-types.sh); skipped with that reason otherwise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadInfraConfig } from '../../infra/config.ts';
import { runnerStatements, type AppArns } from '../../infra/iam-policies.ts';

const root = resolve(import.meta.dirname, '../..');
const platform = join(root, '.sst/platform/node_modules/@pulumi');
const hasPlatform = existsSync(join(platform, 'aws/package.json')) && existsSync(join(platform, 'pulumi/package.json'));

/**
 * The slice of Pulumi's mock API used here (its package lives in .sst/platform, not in the project's node_modules).
 * Module functions are typed as properties: they do not use `this`, so taking them off the namespace is safe.
 */
interface PulumiOutput<T> {
  apply<U>(fn: (value: T) => U): PulumiOutput<U>;
}
interface PulumiModule {
  runtime: {
    setMocks(
      mocks: {
        newResource(args: { type: string; name: string; inputs: Record<string, unknown> }): { id: string; state: Record<string, unknown> };
        call(args: { token: string; inputs: Record<string, unknown> }): Record<string, unknown>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): Promise<void>;
  };
  output: <T>(value: T) => PulumiOutput<T>;
  all: <T>(values: T) => PulumiOutput<unknown>;
}
interface GroupInputs {
  desiredCapacity?: number;
  mixedInstancesPolicy: { instancesDistribution: Record<string, unknown>; launchTemplate: { overrides: unknown[] } };
  initialLifecycleHooks: unknown[];
  enabledMetrics: string[];
}
interface LaunchTemplateInputs {
  imageId: string;
  metadataOptions: Record<string, unknown>;
  blockDeviceMappings: Array<{ ebs: Record<string, unknown> }>;
  userData: string;
}

/** infra/resources/fleet.ts, loaded by path: it uses SST's globals, so the root typecheck must not follow it (the infra typecheck does). */
interface FleetModule {
  createFleet: (inputs: { config: ReturnType<typeof loadInfraConfig>; network: unknown; queues: unknown; bucket: unknown; appArns: PulumiOutput<unknown> }) => {
    group: { arn: PulumiOutput<string> };
    arns: PulumiOutput<AppArns>;
  };
}

interface AlarmsModule {
  createAlarms: (config: ReturnType<typeof loadInfraConfig>, queues: unknown, fleetGroupName: string, functions: Array<{ id: string; name: string }>) => unknown;
}
interface AlarmInputs {
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  threshold: number;
  evaluationPeriods: number;
  metricQueries?: Array<{ id: string; expression?: string; metric?: unknown }>;
  alarmActions: string[];
}

interface QueuesModule {
  createQueues: (config: ReturnType<typeof loadInfraConfig>) => unknown;
  JOB_RETENTION_SECONDS: number;
}
interface BotFunctionsModule {
  createBotFunctions: (inputs: Record<string, unknown>) => unknown;
}

/** SST components (sst.aws.Queue / Function) stand-ins that record their arguments; the raw `aws.*` resources stay Pulumi's. */
interface StorageModule {
  createStorage: (config: ReturnType<typeof loadInfraConfig>) => unknown;
}
interface SstCall {
  kind: string;
  name: string;
  args: Record<string, unknown>;
}

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

describe.skipIf(!hasPlatform)('fleet resources under Pulumi mocks', () => {
  const registered: Registered[] = [];
  const sstCalls: SstCall[] = [];
  const byType = (type: string) => registered.filter((r) => r.type === type);

  beforeAll(async () => {
    const pulumi = (await import(join(platform, 'pulumi/index.js'))) as PulumiModule;
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs });
          const arn = `arn:aws:mock:eu-west-1:123456789012:${args.type}/${args.name}`;
          return { id: `${args.name}-id`, state: { ...args.inputs, arn, name: args.inputs.name ?? args.name, repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${String(args.inputs.name)}`, latestVersion: 1 } };
        },
        call: (args) => {
          if (args.token === 'aws:ssm/getParameter:getParameter') return { value: 'ami-0gpu', name: args.inputs.name };
          if (args.token === 'aws:index/getRegion:getRegion') return { region: 'eu-west-1', name: 'eu-west-1', id: 'eu-west-1' };
          if (args.token === 'aws:index/getPartition:getPartition') return { partition: 'aws', id: 'aws' };
          if (args.token === 'aws:index/getCallerIdentity:getCallerIdentity') return { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:root', userId: 'x', id: '123456789012' };
          return args.inputs;
        },
      },
      'cascade-bot',
      'test',
      false,
    );
    const aws = await import(join(platform, 'aws/index.js'));
    const component = (kind: string) =>
      class {
        readonly name: string;
        readonly url = pulumi.output(`https://${kind}.example`);
        readonly arn = pulumi.output(`arn:aws:${kind}:eu-west-1:1:x`);
        readonly nodes: { queue: { name: PulumiOutput<string> }; function: { name: PulumiOutput<string> } };
        readonly value = pulumi.output('secret');
        constructor(name: string, args: Record<string, unknown> = {}) {
          this.name = name;
          this.nodes = { queue: { name: pulumi.output('q') }, function: { name: pulumi.output(typeof args.name === 'string' ? args.name : 'fn') } };
          sstCalls.push({ kind, name, args });
        }
        subscribe(args: Record<string, unknown>, options: Record<string, unknown>) {
          sstCalls.push({ kind: 'Subscriber', name: 'events', args: { ...args, options } });
          return { nodes: { function: { name: pulumi.output('dispatch-fn') } } };
        }
      };
    Object.assign(globalThis, {
      aws,
      sst: { aws: { Queue: component('Queue'), Function: component('Function'), Bucket: component('Bucket') }, Secret: component('Secret') },
      $app: { name: 'cascade-bot', stage: 'test', removal: 'remove' },
      $resolve: pulumi.all,
      $util: pulumi,
    });
    const fleetModulePath = join(root, 'infra/resources/fleet.ts');
    const { createFleet } = (await import(fleetModulePath)) as FleetModule;
    const out = (value: string) => pulumi.output(value);
    const config = loadInfraConfig(
      { CASCADE_FLEET_MAX_INSTANCES: '3', CASCADE_FLEET_INSTANCE_TYPES: 'g6.xlarge,g5.xlarge' },
      { alarmEmails: ['ops@example.com', 'oncall@example.com'], monthlyBudgetUsd: 120 },
    );
    const fleet = createFleet({
      config,
      network: { vpc: { publicSubnets: pulumi.output(['subnet-a', 'subnet-b']) }, fleetSecurityGroup: { id: out('sg-1') } },
      queues: { jobs: { url: out('https://sqs/jobs.fifo') }, jobsDlq: { url: out('https://sqs/jobs-dlq.fifo') }, events: { url: out('https://sqs/events.fifo') } },
      bucket: { name: out('bucket-1') },
      appArns: pulumi.output({
        jobsQueue: 'arn:aws:sqs:eu-west-1:1:jobs.fifo',
        jobsDlq: 'arn:aws:sqs:eu-west-1:1:jobs-dlq.fifo',
        eventsQueue: 'arn:aws:sqs:eu-west-1:1:events.fifo',
        bucket: 'arn:aws:s3:::bucket-1',
      }),
    });
    const arns = fleet.arns;
    const { createAlarms } = (await import(join(root, 'infra/resources/alarms.ts'))) as AlarmsModule;
    const queue = (name: string) => ({ nodes: { queue: { name: out(name) } } });
    createAlarms(config, { jobs: queue('jobs.fifo'), jobsDlq: queue('jobs-dlq.fifo'), eventsDlq: queue('events-dlq.fifo') }, 'cascade-bot-test-gpu-fleet', [
      { id: 'SlackEvents', name: 'slack-fn' },
      { id: 'Dispatcher', name: 'dispatch-fn' },
    ]);
    const { createQueues } = (await import(join(root, 'infra/resources/queues.ts'))) as QueuesModule;
    const queues = createQueues(config);
    const { createBotFunctions } = (await import(join(root, 'infra/resources/bot-functions.ts'))) as BotFunctionsModule;
    const secret = { value: out('s') };
    createBotFunctions({
      config,
      queues,
      bucket: { name: out('bucket-1') },
      secrets: { discord: { applicationId: secret, publicKey: secret, botToken: secret }, slack: { signingSecret: secret, botToken: secret } },
      fleetGroupName: 'cascade-bot-test-gpu-fleet',
      arns: fleet.arns,
    });
    const { createStorage } = (await import(join(root, 'infra/resources/storage.ts'))) as StorageModule;
    createStorage(config);
    // Let every resource register and every apply run.
    await new Promise<void>((done) => pulumi.all([fleet.group.arn, arns] as const).apply(() => setTimeout(done, 50)));
    await new Promise((done) => setTimeout(done, 200));
  }, 120_000);

  it('GIVEN the config THEN the group is 100 % spot over the configured types, rebalancing, 0..max, with the drain hook', () => {
    const [group] = byType('aws:autoscaling/group:Group');
    expect(group).toBeDefined();
    const inputs = group!.inputs as unknown as GroupInputs;
    expect(group!.inputs).toMatchObject({ name: 'cascade-bot-test-gpu-fleet', minSize: 0, maxSize: 3, capacityRebalance: true, vpcZoneIdentifiers: ['subnet-a', 'subnet-b'] });
    expect(inputs.desiredCapacity).toBeUndefined();
    expect(inputs.mixedInstancesPolicy.instancesDistribution).toMatchObject({
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 0,
      spotAllocationStrategy: 'price-capacity-optimized',
    });
    expect(inputs.mixedInstancesPolicy.launchTemplate.overrides).toEqual([{ instanceType: 'g6.xlarge' }, { instanceType: 'g5.xlarge' }]);
    expect(inputs.initialLifecycleHooks).toEqual([
      // In service = ready: the runner completes it; a boot that never gets there is abandoned (terminated) after 20 min.
      expect.objectContaining({ name: 'runner-ready', lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', defaultResult: 'ABANDON', heartbeatTimeout: 1200 }),
      expect.objectContaining({ name: 'drain-runner', lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', defaultResult: 'CONTINUE' }),
    ]);
    expect(inputs.enabledMetrics).toEqual(expect.arrayContaining(['GroupDesiredCapacity', 'GroupInServiceInstances']));
  });

  it('GIVEN the launch template THEN it uses the GPU AMI, IMDSv2 with hop limit 2 and a boot script that is valid bash for this group', () => {
    const [template] = byType('aws:ec2/launchTemplate:LaunchTemplate');
    const inputs = template!.inputs as unknown as LaunchTemplateInputs;
    expect(inputs.imageId).toBe('ami-0gpu');
    expect(inputs.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 2 });
    expect(inputs.blockDeviceMappings[0]!.ebs).toMatchObject({ volumeType: 'gp3', encrypted: 'true', volumeSize: 100 });
    const script = Buffer.from(inputs.userData, 'base64').toString('utf8');
    expect(script).toContain('ASG_NAME=cascade-bot-test-gpu-fleet');
    expect(script).toContain('JOBS_QUEUE_URL=https://sqs/jobs.fifo');
    expect(script).toContain('JOBS_DLQ_URL=https://sqs/jobs-dlq.fifo\nFLEET_GROUP_NAME=cascade-bot-test-gpu-fleet\nSPOT_METADATA_URL=http://169.254.169.254\n');
    expect(script).toContain("'s3://bucket-1/models/stable-cascade/'");
    const file = join(mkdtempSync(join(tmpdir(), 'cascade-lt-')), 'boot.sh');
    writeFileSync(file, script);
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
  });

  it('GIVEN the runner role THEN its inline policy is exactly the tested runner statements, on the group\'s name-pattern ARN, registered before the group', () => {
    const [policy] = byType('aws:iam/rolePolicy:RolePolicy');
    const document = JSON.parse(policy!.inputs.policy as string) as { Statement: unknown[] };
    const arns: AppArns = {
      jobsQueue: 'arn:aws:sqs:eu-west-1:1:jobs.fifo',
      jobsDlq: 'arn:aws:sqs:eu-west-1:1:jobs-dlq.fifo',
      eventsQueue: 'arn:aws:sqs:eu-west-1:1:events.fifo',
      bucket: 'arn:aws:s3:::bucket-1',
      fleetGroup: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/cascade-bot-test-gpu-fleet',
      runnerRepository: 'arn:aws:mock:eu-west-1:123456789012:aws:ecr/repository:Repository/RunnerRepository',
      runnerLogGroup: 'arn:aws:mock:eu-west-1:123456789012:aws:cloudwatch/logGroup:LogGroup/RunnerLogs',
    };
    expect(document.Statement).toEqual(runnerStatements(arns));
    expect(byType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')).toEqual([]);
    // The group depends on the policy, so the first instance of a first deploy already has its permissions.
    const order = registered.map((r) => r.type);
    expect(order.indexOf('aws:iam/rolePolicy:RolePolicy')).toBeLessThan(order.indexOf('aws:autoscaling/group:Group'));
  });

  it('GIVEN the alarms THEN both DLQs, the oldest job, a fleet that does not start or idles, and each function\'s errors and throttles alarm to the topic, which mails every stage address', () => {
    const alarms = new Map(byType('aws:cloudwatch/metricAlarm:MetricAlarm').map((r) => [r.name, r.inputs as unknown as AlarmInputs]));
    expect([...alarms.keys()].sort()).toEqual([
      'DispatcherErrors', 'DispatcherThrottles', 'EventsDlqNotEmpty', 'FleetIdleInService', 'FleetNotStarting', 'JobsDlqNotEmpty', 'OldestJobWaiting', 'SlackEventsErrors', 'SlackEventsThrottles',
    ]);
    expect(alarms.get('SlackEventsThrottles')).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: { FunctionName: 'slack-fn' }, threshold: 1 });
    expect(alarms.get('DispatcherErrors')).toMatchObject({ metricName: 'Errors', dimensions: { FunctionName: 'dispatch-fn' } });
    const idle = alarms.get('FleetIdleInService')!;
    expect(idle.evaluationPeriods).toBe(3);
    expect(idle.metricQueries?.find((q) => q.id === 'idle')?.expression).toBe('IF(inservice > 0 AND waiting + running == 0, 1, 0)');
    // Visible + in flight: the runner's DLQ reads hide a dead letter for minutes, which must not clear the alarm.
    const jobsDlq = alarms.get('JobsDlqNotEmpty')!;
    expect(jobsDlq).toMatchObject({ threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(jobsDlq.metricName).toBeUndefined();
    expect(jobsDlq.metricQueries?.find((q) => q.id === 'held')?.expression).toBe('visible + inflight');
    const dlqMetrics = (jobsDlq.metricQueries ?? []).flatMap((q) => ('metric' in q ? [q.metric as { metricName: string; dimensions: Record<string, string> }] : []));
    expect(dlqMetrics.map((m) => m.metricName).sort()).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible']);
    expect(dlqMetrics.every((m) => m.dimensions.QueueName === 'jobs-dlq.fifo')).toBe(true);
    expect(alarms.get('OldestJobWaiting')).toMatchObject({ metricName: 'ApproximateAgeOfOldestMessage', dimensions: { QueueName: 'jobs.fifo' }, threshold: 600 });
    const fleet = alarms.get('FleetNotStarting')!;
    expect(fleet.evaluationPeriods).toBe(15);
    expect(fleet.metricQueries?.find((q) => q.id === 'stuck')?.expression).toBe('IF(desired > 0 AND inservice == 0, 1, 0)');
    const [topic] = byType('aws:sns/topic:Topic');
    for (const alarm of alarms.values()) expect(alarm.alarmActions).toEqual([`arn:aws:mock:eu-west-1:123456789012:aws:sns/topic:Topic/${topic!.name}`]);
    expect(byType('aws:sns/topicSubscription:TopicSubscription').map((r) => r.inputs)).toEqual([
      expect.objectContaining({ protocol: 'email', endpoint: 'ops@example.com' }),
      expect.objectContaining({ protocol: 'email', endpoint: 'oncall@example.com' }),
    ]);
  });

  it('GIVEN a monthly amount for the stage THEN an AWS Budget on the stage\'s costs alerts the same addresses at 80 % actual and 100 % forecast', () => {
    const [budget] = byType('aws:budgets/budget:Budget');
    expect(budget?.inputs).toMatchObject({ budgetType: 'COST', limitAmount: '120.00', limitUnit: 'USD', timeUnit: 'MONTHLY' });
    const notifications = budget!.inputs.notifications as Array<Record<string, unknown>>;
    expect(notifications.map((n) => [n.threshold, n.notificationType])).toEqual([[80, 'ACTUAL'], [100, 'FORECASTED']]);
    for (const n of notifications) expect(n.subscriberEmailAddresses).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(budget!.inputs.costFilters).toEqual([{ name: 'TagKeyValue', values: ['user:sst:stage$test'] }]);
  });

  it('GIVEN the queues THEN jobs are kept 4 days (SQS expiry would drop them unseen) and no longer than their dead letters', async () => {
    const { JOB_RETENTION_SECONDS } = (await import(join(root, 'infra/resources/queues.ts'))) as QueuesModule;
    expect(JOB_RETENTION_SECONDS).toBe(4 * 24 * 3600);
    const queue = (name: string) => sstCalls.find((call) => call.kind === 'Queue' && call.name === name)!.args as { transform: { queue: { messageRetentionSeconds: number } } };
    expect(queue('Jobs').transform.queue.messageRetentionSeconds).toBe(345_600);
    expect(queue('JobsDlq').transform.queue.messageRetentionSeconds).toBeGreaterThanOrEqual(345_600);
    // The runner's refusal age cannot exceed what the queue keeps.
    expect(() => loadInfraConfig({ CASCADE_JOB_MAX_AGE_MINUTES: String(4 * 24 * 60 + 1) })).toThrow(/CASCADE_JOB_MAX_AGE_MINUTES/);
  });

  it('GIVEN the chat functions THEN each has reserved concurrency, and Slack is named so it may invoke itself (only itself) without retries', async () => {
    const fn = (name: string) => sstCalls.find((call) => call.kind === 'Function' && call.name === name)!.args;
    expect(fn('DiscordInteractions')).toMatchObject({ url: true, runtime: 'nodejs24.x', concurrency: { reserved: 20 } });
    const slack = fn('SlackEvents');
    expect(slack).toMatchObject({ url: true, runtime: 'nodejs24.x', concurrency: { reserved: 20 }, name: 'cascade-bot-test-slack-events' });
    const permissions = await new Promise<Array<{ actions: string[]; resources: string[] }>>((done) =>
      (slack.permissions as PulumiOutput<Array<{ actions: string[]; resources: string[] }>>).apply(done),
    );
    const invoke = permissions.filter((p) => p.actions.some((a) => a.startsWith('lambda:')));
    expect(invoke).toEqual([{ actions: ['lambda:InvokeFunction'], resources: ['arn:aws:lambda:eu-west-1:123456789012:function:cascade-bot-test-slack-events'] }]);
    expect(byType('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig')[0]?.inputs).toMatchObject({ functionName: 'cascade-bot-test-slack-events', maximumRetryAttempts: 0 });
    const dispatcher = sstCalls.find((call) => call.kind === 'Subscriber')!.args;
    expect(dispatcher).toMatchObject({ runtime: 'nodejs24.x', handler: 'functions/dispatch.handler' });
  });
  it('GIVEN the bucket THEN job outputs, pending markers, dead-letter notices and header-edit claims expire; boards and settings never do', async () => {
    const { STORAGE_PREFIXES } = await import('../../core/storage-layout.ts');
    const bucket = sstCalls.find((c) => c.kind === 'Bucket');
    const rules = (bucket?.args.lifecycle ?? []) as Array<{ prefix: string; expiresIn: string }>;
    const byPrefix = Object.fromEntries(rules.map((r) => [r.prefix, r.expiresIn]));
    expect(byPrefix[STORAGE_PREFIXES.boardHeaderClaims]).toBe('1 day');
    expect(byPrefix[STORAGE_PREFIXES.pending]).toBe('1 day');
    expect(Object.keys(byPrefix).sort()).toEqual([STORAGE_PREFIXES.boardHeaderClaims, STORAGE_PREFIXES.deadLetters, STORAGE_PREFIXES.jobs, STORAGE_PREFIXES.pending].sort());
    // No rule's prefix may cover another family's keys (S3 prefixes match by string start).
    for (const rule of rules) for (const prefix of Object.values(STORAGE_PREFIXES)) if (prefix !== rule.prefix) expect(prefix.startsWith(rule.prefix)).toBe(false);
  });
});
