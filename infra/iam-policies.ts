/**
 * Least-privilege IAM statements for each role of the app, as plain data built from resource ARNs,
 * so they can be unit-tested without AWS. Each role touches only its own queues and key prefixes, and
 * only with the calls its code makes: test/infra/runner-permissions.test.ts and function-permissions.test.ts
 * record the real SQS/S3 requests of the runner, the bot commands and the dispatcher over the emulator and
 * check that each is allowed and each granted SQS/S3 right is used.
 *
 * | role        | jobs queue               | other queues                 | bucket prefixes                                        | fleet                       |
 * |-------------|--------------------------|------------------------------|--------------------------------------------------------|-----------------------------|
 * | front end   | send, read depth         | events: send                 | jobs/ (read/write/delete), pending/ (write/delete), settings/ (read/write), boards/ (read/write/delete), board-places/ (write/delete) | — |
 * | dispatcher  | read depth (nudge)       | events: SQS trigger (SST), defer a board event | jobs/ (read/write), boards/ (read/write), board-header-claims/ (read/write), board-places/ (delete) | describe, resize  |
 * | scaler      | read depth               | —                            | —                                                      | describe, resize            |
 * | deadlines   | —                        | events: send                 | boards/ (read)                                         | —                           |
 * | board page  | —                        | —                            | boards/ (read/write), jobs/ (read)                     | —                           |
 * | GPU runner  | receive/extend/delete    | events: send; DLQ: receive   | jobs/ (read/write), pending/ (delete), dead-letters/ (read/write), models/ (read) | own lifecycle, own protection |
 *
 * Roles that read the bucket may also list its key names (see listBucket).
 *
 * A few AWS actions cannot be scoped to a resource at all (`Describe*`, the ECR login token); they are
 * listed in WILDCARD_ONLY_ACTIONS and are the only ones ever granted on `*`.
 */
import { STORAGE_PREFIXES } from '../core/storage-layout.ts';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface AppArns {
  jobsQueue: string;
  /** The jobs dead-letter queue: the idle runner reads it to announce jobs that crashed it every time. */
  jobsDlq: string;
  eventsQueue: string;
  bucket: string;
  fleetGroup: string;
  runnerRepository: string;
  runnerLogGroup: string;
}

/**
 * The auto-scaling group's ARN as IAM matches it, from its name alone (the group id in the middle is a
 * wildcard): policies that name the fleet can then exist before the group does, so an instance launched
 * by the very first deploy already has its permissions.
 */
export function autoScalingGroupArnPattern(p: { partition: string; region: string; accountId: string; groupName: string }): string {
  return `arn:${p.partition}:autoscaling:${p.region}:${p.accountId}:autoScalingGroup:*:autoScalingGroupName/${p.groupName}`;
}

/** Actions that AWS authorizes only against Resource "*" (service authorization reference). */
export const WILDCARD_ONLY_ACTIONS = ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'ecr:GetAuthorizationToken'] as const;

const objects = (bucketArn: string, prefixes: string[]) => prefixes.map((prefix) => `${bucketArn}/${prefix}*`);

/**
 * Listing is granted on the whole (own) bucket, not per prefix: without s3:ListBucket S3 answers a GET or
 * HEAD of a missing key with 403 instead of 404, and an `s3:prefix` condition does not apply to those
 * requests, so "does result.json exist yet?" would fail instead of answering no. Listing shows key names only.
 */
function listBucket(bucketArn: string): PolicyStatement {
  return { Sid: 'ListBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [bucketArn] };
}

const describeFleet: PolicyStatement = {
  Sid: 'DescribeFleet',
  Effect: 'Allow',
  Action: ['autoscaling:DescribeAutoScalingGroups'],
  Resource: ['*'],
};

function resizeFleet(arns: AppArns): PolicyStatement[] {
  return [
    describeFleet,
    // The scale-in clock is kept as a tag on the group itself (see core/aws/auto-scaling-fleet.ts).
    { Sid: 'ResizeFleet', Effect: 'Allow', Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:CreateOrUpdateTags'], Resource: [arns.fleetGroup] },
    { Sid: 'ReadJobsDepth', Effect: 'Allow', Action: ['sqs:GetQueueAttributes'], Resource: [arns.jobsQueue] },
  ];
}

/** Discord interactions and Slack events functions: validate, enqueue, answer buttons from stored records. */
export function frontEndStatements(arns: AppArns): PolicyStatement[] {
  return [
    // bot/submit.ts: send, then depth() for the queue position; bot/commands/usage.ts: depth().
    { Sid: 'EnqueueJobs', Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'], Resource: [arns.jobsQueue] },
    { Sid: 'PublishEvents', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [arns.eventsQueue] },
    // job.json, cancel.json, deleted.json; a refused submit and "delete my job" remove objects.
    { Sid: 'JobRecords', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.jobs]) },
    // core/pending.ts: markers are written, listed (ListBucket) and removed, never read.
    { Sid: 'PendingMarkers', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.pending]) },
    { Sid: 'UserSettings', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.settings]) },
    // bot/boards/: one object per fact (pin, vote, member…); unpin and unvote are DELETEs.
    { Sid: 'MoodBoards', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boards]) },
    // "board open in this channel" markers: written at start, listed, removed at the end; never read.
    { Sid: 'BoardPlaces', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boardPlaces]) },
    listBucket(arns.bucket),
  ];
}

/** The Slack function hands each verified request to an asynchronous invocation of itself (functions/slack-events.ts). */
export function selfInvokeStatement(functionArn: string): PolicyStatement {
  return { Sid: 'HandOffToSelf', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [functionArn] };
}

/** A Lambda function's ARN from its name (known before the function exists, so it can name itself). */
export function lambdaFunctionArn(p: { partition: string; region: string; accountId: string; functionName: string }): string {
  return `arn:${p.partition}:lambda:${p.region}:${p.accountId}:function:${p.functionName}`;
}

/** Events dispatcher: delivers events to chats, reads results, and wakes the fleet when a job is queued. */
export function dispatcherStatements(arns: AppArns): PolicyStatement[] {
  return [
    // Reads job.json, result.json, grid/preview, delivered.json, deleted.json; writes delivered.json and
    // discord-message.json. It deletes no job object (the runner clears pending markers on every final state).
    { Sid: 'JobRecords', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.jobs]) },
    // bot/boards/header-updater.ts: reads a board's facts, writes its versions, records, exports and summary;
    // it never deletes a fact.
    { Sid: 'BoardHeaders', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boards]) },
    // Header-edit claims: created conditionally, read back when the create loses (the bucket expires them).
    { Sid: 'BoardHeaderClaims', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boardHeaderClaims]) },
    // A board it ends (deadline passed, thread gone) loses its "open here" marker.
    { Sid: 'EndedBoardPlaces', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boardPlaces]) },
    // A board change that must wait out the 30-s header pace goes back to the queue for that long (functions/dispatch.ts).
    { Sid: 'DeferBoardEvents', Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility'], Resource: [arns.eventsQueue] },
    listBucket(arns.bucket),
    ...resizeFleet(arns),
    // Why a launch failed (quota, no capacity): the queued message tells waiting users (bot/fleet.ts startProblem).
    { Sid: 'FleetLaunchFailures', Effect: 'Allow', Action: ['autoscaling:DescribeScalingActivities'], Resource: ['*'] },
  ];
}

/** The board deadline sweep (functions/board-deadlines.ts): lists open boards, reads their records, publishes "ended". */
export function boardDeadlineStatements(arns: AppArns): PolicyStatement[] {
  return [
    { Sid: 'ReadBoards', Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boards]) },
    { Sid: 'PublishEvents', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [arns.eventsQueue] },
    // The "board open here" markers are found by listing board-places/.
    listBucket(arns.bucket),
  ];
}

/** The board page function URL (functions/board-page.ts): reads boards and pinned images, writes versions and exports. */
export function boardPageStatements(arns: AppArns): PolicyStatement[] {
  return [
    // Facts, tokens (HEAD), versions and exports; an open board's exports are rendered on request.
    { Sid: 'BoardPages', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.boards]) },
    // Pinned images live with their jobs; the page presigns GETs of them (and reads them for the exports).
    { Sid: 'PinnedImages', Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.jobs]) },
    listBucket(arns.bucket),
  ];
}

/** The scheduled scaler: reads the backlog, resizes the group. */
export function scalerStatements(arns: AppArns): PolicyStatement[] {
  return resizeFleet(arns);
}

/** The GPU instances (runner container and host drain agent). */
export function runnerStatements(arns: AppArns): PolicyStatement[] {
  return [
    { Sid: 'ConsumeJobs', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'], Resource: [arns.jobsQueue] },
    // gpu-runner/worker-dead-letters.ts only looks: ReceiveMessage with its own VisibilityTimeout, the
    // message stays in the DLQ for the operators (no delete, no visibility change).
    { Sid: 'ReadDeadLetters', Effect: 'Allow', Action: ['sqs:ReceiveMessage'], Resource: [arns.jobsDlq] },
    { Sid: 'PublishEvents', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [arns.eventsQueue] },
    { Sid: 'JobOutputs', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.jobs]) },
    { Sid: 'ClearPending', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.pending]) },
    // dead-letters/{jobId}.json: "this user was told"; checked (HEAD) and written.
    { Sid: 'DeadLetterNotices', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.deadLetters]) },
    // The host's `aws s3 sync` of the bundle at boot (infra/user-data.ts).
    { Sid: 'ReadModels', Effect: 'Allow', Action: ['s3:GetObject'], Resource: objects(arns.bucket, [STORAGE_PREFIXES.models]) },
    listBucket(arns.bucket),
    {
      // The runner completes the launch hook once ready; the boot script's error trap abandons it and the host
      // agent marks a crash-looping runner unhealthy; the drain agent completes the termination hook; the
      // runner protects its instance while busy.
      Sid: 'OwnLifecycle',
      Effect: 'Allow',
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:SetInstanceHealth', 'autoscaling:SetInstanceProtection'],
      Resource: [arns.fleetGroup],
    },
    {
      Sid: 'RunnerLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [`${arns.runnerLogGroup}:*`],
    },
    { Sid: 'EcrLogin', Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
    {
      Sid: 'PullRunnerImage',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      Resource: [arns.runnerRepository],
    },
  ];
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * Statements that reach beyond the app: a `*` resource holding any action not in WILDCARD_ONLY_ACTIONS,
 * or a resource wildcard that is not under one of the app's own ARNs. Empty means the policy is scoped.
 */
export function scopeViolations(statements: PolicyStatement[], appArns: AppArns): string[] {
  const own = Object.values(appArns);
  const wildcardOnly: readonly string[] = WILDCARD_ONLY_ACTIONS;
  const violations: string[] = [];
  for (const statement of statements) {
    for (const resource of statement.Resource) {
      if (resource === '*') {
        const broad = statement.Action.filter((action) => !wildcardOnly.includes(action));
        if (broad.length > 0) violations.push(`${statement.Sid}: ${broad.join(', ')} on *`);
      } else if (!own.some((arn) => resource === arn || resource.startsWith(`${arn}/`) || resource.startsWith(`${arn}:`))) {
        violations.push(`${statement.Sid}: ${resource} is not one of the app's resources`);
      }
    }
    const wildActions = statement.Action.filter((action) => action.includes('*'));
    if (wildActions.length > 0) violations.push(`${statement.Sid}: wildcard actions ${wildActions.join(', ')}`);
  }
  return violations;
}
