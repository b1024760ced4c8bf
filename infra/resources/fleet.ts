/**
 * The spot GPU fleet, in raw Pulumi `aws.*` (SST 4 has no GPU compute component): runner image
 * repository and log group, instance role, launch template (ECS GPU AMI, IMDSv2 with hop limit 2 so the
 * container reaches instance metadata, encrypted gp3 root volume, boot script from infra/user-data.ts),
 * and a 100 % spot auto-scaling group over several instance types with Capacity Rebalancing, a launch
 * lifecycle hook the runner completes once ready (ABANDON on timeout) and a termination hook completed
 * by the host drain agent. The runner policy is created first, on the group's name-pattern ARN.
 *
 * The group's desired capacity belongs to the scaler (functions/scaler.ts), so deploys never reset it.
 */
import type { InfraConfig } from '../config.ts';
import { autoScalingGroupArnPattern, policyDocument, runnerStatements, type AppArns } from '../iam-policies.ts';
import { DOCKER_STOP_SECONDS, runnerEnvironment } from '../runtime-env.ts';
import { renderUserData } from '../user-data.ts';
import type { Network } from './network.ts';
import type { Queues } from './queues.ts';

/** The ECS-optimized Amazon Linux 2023 GPU AMI: NVIDIA driver, Docker and the NVIDIA container runtime. */
export const GPU_AMI_PARAMETER = '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id';
export const LIFECYCLE_HOOK_NAME = 'drain-runner';
/** Completed by the runner once the model is loaded (gpu-runner/worker-launch.ts); ABANDON (terminate) if it never is. */
export const LAUNCH_HOOK_NAME = 'runner-ready';
/** Longer than the drain (DOCKER_STOP_SECONDS) plus completing the action; CONTINUE if the agent never answers. */
const LIFECYCLE_HEARTBEAT_SECONDS = 300;

/** The ARNs of the app's other resources that the runner policy names. */
export type NonFleetArns = Omit<AppArns, 'fleetGroup' | 'runnerRepository' | 'runnerLogGroup'>;

export interface FleetInputs {
  config: InfraConfig;
  network: Network;
  queues: Queues;
  bucket: sst.aws.Bucket;
  appArns: $util.Output<NonFleetArns>;
}

export function createFleet({ config, network, queues, bucket, appArns }: FleetInputs) {
  const prefix = `${$app.name}-${$app.stage}`;
  const groupName = `${prefix}-gpu-fleet`;
  const region = aws.getRegionOutput().region;
  const groupArn = $resolve([aws.getPartitionOutput().partition, region, aws.getCallerIdentityOutput().accountId]).apply(([partition, regionName, accountId]) =>
    autoScalingGroupArnPattern({ partition, region: regionName, accountId, groupName }),
  );

  const repository = new aws.ecr.Repository('RunnerRepository', {
    name: `${prefix}-runner`,
    imageScanningConfiguration: { scanOnPush: true },
    forceDelete: $app.removal === 'remove',
  });
  new aws.ecr.LifecyclePolicy('RunnerRepositoryLifecycle', {
    repository: repository.name,
    policy: JSON.stringify({
      rules: [{ rulePriority: 1, description: 'keep the last 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
    }),
  });
  const logGroup = new aws.cloudwatch.LogGroup('RunnerLogs', { name: `/${$app.name}/${$app.stage}/runner`, retentionInDays: 14 });

  const role = new aws.iam.Role('RunnerRole', {
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  });
  if (config.fleet.ssmAccess) {
    new aws.iam.RolePolicyAttachment('RunnerSsmAccess', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' });
  }
  const instanceProfile = new aws.iam.InstanceProfile('RunnerInstanceProfile', { role: role.name });

  // Every ARN the runner policy names exists (or is a name pattern) before the group does, so the policy is
  // in place before the first instance can boot, even with a minimum above 0 on the very first deploy.
  const arns = $resolve([appArns, groupArn, repository.arn, logGroup.arn] as const).apply(
    ([other, fleetGroup, runnerRepository, runnerLogGroup]): AppArns => ({ ...(other as NonFleetArns), fleetGroup, runnerRepository, runnerLogGroup }),
  );
  const runnerPolicy = new aws.iam.RolePolicy('RunnerPolicy', {
    role: role.id,
    policy: arns.apply((resolved) => JSON.stringify(policyDocument(runnerStatements(resolved)))),
  });

  const userData = $resolve([region, queues.jobs.url, queues.jobsDlq.url, queues.events.url, bucket.name, repository.repositoryUrl, logGroup.name]).apply(
    ([regionName, jobsQueueUrl, jobsDlqUrl, eventsQueueUrl, bucketName, repositoryUrl, logGroupName]) =>
      Buffer.from(
        renderUserData({
          region: regionName,
          bucket: bucketName,
          modelName: config.model.name,
          imageUri: `${repositoryUrl}:${config.runnerImageTag}`,
          fleetGroupName: groupName,
          lifecycleHookName: LIFECYCLE_HOOK_NAME,
          launchHookName: LAUNCH_HOOK_NAME,
          logGroupName,
          drainStopSeconds: DOCKER_STOP_SECONDS,
          runnerEnv: runnerEnvironment({
            region: regionName,
            jobsQueueUrl,
            jobsDlqUrl,
            eventsQueueUrl,
            bucket: bucketName,
            maxReceives: config.jobs.maxReceives,
            visibilitySeconds: config.jobs.visibilitySeconds,
            maxJobAgeSeconds: config.jobs.maxAgeMinutes * 60,
            fleetGroupName: groupName,
          }),
        }),
      ).toString('base64'),
  );

  const launchTemplate = new aws.ec2.LaunchTemplate('RunnerLaunchTemplate', {
    namePrefix: `${prefix}-runner-`,
    imageId: aws.ssm.getParameterOutput({ name: GPU_AMI_PARAMETER }).value,
    iamInstanceProfile: { arn: instanceProfile.arn },
    userData,
    updateDefaultVersion: true,
    metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 2 },
    networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: 'true', securityGroups: [network.fleetSecurityGroup.id], deleteOnTermination: 'true' }],
    blockDeviceMappings: [
      { deviceName: '/dev/xvda', ebs: { volumeSize: config.fleet.rootVolumeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } },
    ],
    tagSpecifications: [{ resourceType: 'instance', tags: { Name: `${prefix}-gpu-runner` } }],
  });

  const group = new aws.autoscaling.Group(
    'GpuFleet',
    {
      name: groupName,
      minSize: config.fleet.minInstances,
      maxSize: config.fleet.maxInstances,
      vpcZoneIdentifiers: network.vpc.publicSubnets,
      capacityRebalance: true,
      healthCheckGracePeriod: 600,
      defaultInstanceWarmup: 300,
      waitForCapacityTimeout: '0',
      enabledMetrics: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupPendingInstances', 'GroupTerminatingInstances'],
      metricsGranularity: '1Minute',
      mixedInstancesPolicy: {
        instancesDistribution: {
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: 0,
          spotAllocationStrategy: 'price-capacity-optimized',
        },
        launchTemplate: {
          launchTemplateSpecification: { launchTemplateId: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
          overrides: config.fleet.instanceTypes.map((instanceType) => ({ instanceType })),
        },
      },
      initialLifecycleHooks: [
        {
          // "In service" means "ready": the runner completes this hook once its model is loaded.
          name: LAUNCH_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeout: config.fleet.bootTimeoutMinutes * 60,
          defaultResult: 'ABANDON',
        },
        {
          name: LIFECYCLE_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: LIFECYCLE_HEARTBEAT_SECONDS,
          defaultResult: 'CONTINUE',
        },
      ],
    },
    { ignoreChanges: ['desiredCapacity'], dependsOn: [runnerPolicy, instanceProfile] },
  );

  return { group, groupName, repository, logGroup, role, runnerPolicy, arns };
}

export type Fleet = ReturnType<typeof createFleet>;
