import { describe, expect, it } from 'vitest';
import {
  autoScalingGroupArnPattern,
  lambdaFunctionArn,
  selfInvokeStatement,
  boardDeadlineStatements,
  boardPageStatements,
  dispatcherStatements,
  frontEndStatements,
  policyDocument,
  runnerStatements,
  scalerStatements,
  scopeViolations,
  WILDCARD_ONLY_ACTIONS,
  type AppArns,
  type PolicyStatement,
} from '../../infra/iam-policies.ts';

const arns: AppArns = {
  jobsQueue: 'arn:aws:sqs:eu-west-1:123456789012:cascade-bot-prod-JobsQueue.fifo',
  jobsDlq: 'arn:aws:sqs:eu-west-1:123456789012:cascade-bot-prod-JobsDlqQueue.fifo',
  eventsQueue: 'arn:aws:sqs:eu-west-1:123456789012:cascade-bot-prod-EventsQueue.fifo',
  bucket: 'arn:aws:s3:::cascade-bot-prod-imagesbucket-abc123',
  fleetGroup: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0b1c:autoScalingGroupName/cascade-bot-prod-gpu-fleet',
  runnerRepository: 'arn:aws:ecr:eu-west-1:123456789012:repository/cascade-bot-prod-runner',
  runnerLogGroup: 'arn:aws:logs:eu-west-1:123456789012:log-group:/cascade-bot/prod/runner',
};

const roles: Record<string, PolicyStatement[]> = {
  frontEnd: frontEndStatements(arns),
  dispatcher: dispatcherStatements(arns),
  scaler: scalerStatements(arns),
  boardDeadlines: boardDeadlineStatements(arns),
  boardPage: boardPageStatements(arns),
  runner: runnerStatements(arns),
};

/** Every (action, resource) pair a role is granted. */
function grants(statements: PolicyStatement[]): Set<string> {
  return new Set(statements.flatMap((s) => s.Action.flatMap((action) => s.Resource.map((resource) => `${action} ${resource}`))));
}
const can = (role: string, action: string, resource: string) => grants(roles[role]!).has(`${action} ${resource}`);

describe('IAM statements', () => {
  it.each(Object.keys(roles))('GIVEN the %s role THEN nothing reaches beyond the app, and `*` holds only wildcard-only actions', (role) => {
    expect(scopeViolations(roles[role]!, arns)).toEqual([]);
  });

  it('GIVEN a broad statement THEN the scope check reports it (the check can fail)', () => {
    const broad: PolicyStatement[] = [
      { Sid: 'Everything', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['*'] },
      { Sid: 'Foreign', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::someone-elses-bucket/*'] },
      { Sid: 'Star', Effect: 'Allow', Action: ['s3:*'], Resource: [`${arns.bucket}/jobs/*`] },
    ];
    expect(scopeViolations(broad, arns)).toEqual([
      'Everything: sqs:SendMessage on *',
      'Foreign: arn:aws:s3:::someone-elses-bucket/* is not one of the app\'s resources',
      'Star: wildcard actions s3:*',
    ]);
  });

  it('GIVEN the front ends THEN they enqueue and publish but cannot consume jobs or touch models', () => {
    expect(can('frontEnd', 'sqs:SendMessage', arns.jobsQueue)).toBe(true);
    expect(can('frontEnd', 'sqs:SendMessage', arns.eventsQueue)).toBe(true);
    expect(can('frontEnd', 'sqs:ReceiveMessage', arns.jobsQueue)).toBe(false);
    expect(can('frontEnd', 's3:PutObject', `${arns.bucket}/pending/*`)).toBe(true);
    expect(can('frontEnd', 's3:PutObject', `${arns.bucket}/settings/*`)).toBe(true);
    expect([...grants(roles.frontEnd!)].some((grant) => grant.includes('/models/'))).toBe(false);
    expect([...grants(roles.frontEnd!)].some((grant) => grant.startsWith('autoscaling:'))).toBe(false);
    // Pending markers are listed, never read; settings are never deleted.
    expect(can('frontEnd', 's3:GetObject', `${arns.bucket}/pending/*`)).toBe(false);
    expect(can('frontEnd', 's3:DeleteObject', `${arns.bucket}/settings/*`)).toBe(false);
    expect(can('frontEnd', 's3:DeleteObject', `${arns.bucket}/jobs/*`)).toBe(true);
  });

  it('GIVEN the runner and the jobs DLQ THEN it may only look (receive), never delete or redrive, and may keep its notice markers', () => {
    expect(can('runner', 'sqs:ReceiveMessage', arns.jobsDlq)).toBe(true);
    expect(can('runner', 'sqs:DeleteMessage', arns.jobsDlq)).toBe(false);
    expect(can('runner', 'sqs:ChangeMessageVisibility', arns.jobsDlq)).toBe(false);
    expect(can('runner', 's3:PutObject', `${arns.bucket}/dead-letters/*`)).toBe(true);
    expect(can('runner', 's3:GetObject', `${arns.bucket}/dead-letters/*`)).toBe(true);
    expect(can('runner', 's3:DeleteObject', `${arns.bucket}/pending/*`)).toBe(true);
    expect(can('runner', 'autoscaling:SetInstanceProtection', arns.fleetGroup)).toBe(true);
    // No role but the runner touches the DLQ; nothing the runner never calls is granted.
    for (const role of ['frontEnd', 'dispatcher', 'scaler']) expect([...grants(roles[role]!)].some((grant) => grant.endsWith(arns.jobsDlq))).toBe(false);
    expect(can('runner', 'sqs:GetQueueAttributes', arns.jobsQueue)).toBe(false);
    expect(can('runner', 'autoscaling:RecordLifecycleActionHeartbeat', arns.fleetGroup)).toBe(false);
  });

  it('GIVEN the runner THEN it consumes jobs, writes outputs, reads models and completes only its own group\'s lifecycle', () => {
    for (const action of ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']) expect(can('runner', action, arns.jobsQueue)).toBe(true);
    expect(can('runner', 'sqs:SendMessage', arns.jobsQueue)).toBe(false);
    expect(can('runner', 's3:PutObject', `${arns.bucket}/jobs/*`)).toBe(true);
    expect(can('runner', 's3:GetObject', `${arns.bucket}/models/*`)).toBe(true);
    expect(can('runner', 's3:PutObject', `${arns.bucket}/models/*`)).toBe(false);
    expect(can('runner', 'autoscaling:CompleteLifecycleAction', arns.fleetGroup)).toBe(true);
    expect(can('runner', 'logs:PutLogEvents', `${arns.runnerLogGroup}:*`)).toBe(true);
    expect(can('runner', 'ecr:BatchGetImage', arns.runnerRepository)).toBe(true);
  });

  it('GIVEN the scaler THEN it reads the backlog and resizes the group, and nothing else', () => {
    expect([...grants(roles.scaler!)].sort()).toEqual(
      [
        'autoscaling:CreateOrUpdateTags ' + arns.fleetGroup,
        'autoscaling:DescribeAutoScalingGroups *',
        'autoscaling:SetDesiredCapacity ' + arns.fleetGroup,
        'sqs:GetQueueAttributes ' + arns.jobsQueue,
      ].sort(),
    );
  });

  it('GIVEN the dispatcher THEN it can wake the fleet, read results and render boards, but never consume or send jobs, and deletes only board-open markers', () => {
    expect(can('dispatcher', 'autoscaling:SetDesiredCapacity', arns.fleetGroup)).toBe(true);
    expect(can('dispatcher', 's3:GetObject', `${arns.bucket}/jobs/*`)).toBe(true);
    expect(can('dispatcher', 's3:PutObject', `${arns.bucket}/boards/*`)).toBe(true);
    expect(can('dispatcher', 'sqs:ReceiveMessage', arns.jobsQueue)).toBe(false);
    expect(can('dispatcher', 'sqs:SendMessage', arns.jobsQueue)).toBe(false);
    expect([...grants(roles.dispatcher!)].filter((grant) => grant.startsWith('s3:DeleteObject'))).toEqual([`s3:DeleteObject ${arns.bucket}/board-places/*`]);
  });

  it('GIVEN any role THEN the document is valid IAM JSON with unique statement ids', () => {
    for (const statements of Object.values(roles)) {
      const document = JSON.parse(JSON.stringify(policyDocument(statements))) as { Version: string; Statement: PolicyStatement[] };
      expect(document.Version).toBe('2012-10-17');
      const sids = document.Statement.map((s) => s.Sid);
      expect(new Set(sids).size).toBe(sids.length);
      for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    }
    expect(WILDCARD_ONLY_ACTIONS).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'ecr:GetAuthorizationToken']);
  });

  it('GIVEN the name-based ARNs THEN the group pattern and the Slack self-invoke name exactly one group and one function', () => {
    expect(autoScalingGroupArnPattern({ partition: 'aws', region: 'eu-west-1', accountId: '123456789012', groupName: 'cascade-bot-prod-gpu-fleet' })).toBe(
      'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/cascade-bot-prod-gpu-fleet',
    );
    const self = lambdaFunctionArn({ partition: 'aws', region: 'eu-west-1', accountId: '123456789012', functionName: 'cascade-bot-prod-slack-events' });
    expect(self).toBe('arn:aws:lambda:eu-west-1:123456789012:function:cascade-bot-prod-slack-events');
    expect(selfInvokeStatement(self)).toEqual({ Sid: 'HandOffToSelf', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [self] });
  });
});
