/**
 * CloudWatch alarms to an SNS topic (an e-mail subscription per address in infra/stages.json):
 * - a job or an event landed in a dead-letter queue (a user got a failure, or never got a message);
 * - the oldest waiting job is older than the threshold (fleet too small, or not coming up);
 * - the fleet is failing to start: capacity desired, nothing in service, for N minutes (no spot capacity,
 *   a broken AMI or boot script, a missing image);
 * - a Lambda function fails or is throttled (per function: the chat front ends, the dispatcher, the scaler);
 * - instances stay in service for hours while no job waits or runs (the fleet is not scaling in: money);
 * and, with a monthly amount in infra/stages.json, an AWS Budget on the stage's tagged costs that mails the
 * same addresses at 80 % of actual and 100 % of forecast spend.
 */
import type { InfraConfig } from '../config.ts';
import type { Queues } from './queues.ts';

const MINUTE = 60;

/** A function to watch: the id used in alarm names, and its deployed name. */
export interface WatchedFunction {
  id: string;
  name: $util.Input<string>;
}

export function createAlarms(config: InfraConfig, queues: Queues, fleetGroupName: string, functions: readonly WatchedFunction[] = []) {
  const topic = new aws.sns.Topic('Alarms');
  config.alarms.emails.forEach((email, index) => {
    new aws.sns.TopicSubscription(`AlarmsEmail${index + 1}`, { topic: topic.arn, protocol: 'email', endpoint: email });
  });
  const actions = { alarmActions: [topic.arn], okActions: [topic.arn] };

  // Visible + in flight: the idle runner reads the jobs DLQ (to tell users) with a 5-minute look-away, so
  // "visible" alone drops to 0 while a dead letter is still there and the alarm would flap OK/ALARM.
  const deadLetters = (name: string, queue: sst.aws.Queue, what: string) => {
    const queueMetric = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queue.nodes.queue.name }, period: MINUTE, stat: 'Maximum' },
    });
    return new aws.cloudwatch.MetricAlarm(name, {
      alarmDescription: `${what} in ${name.replace('NotEmpty', '')}: inspect, fix, then redrive (README "Deploy to AWS")`,
      metricQueries: [
        queueMetric('visible', 'ApproximateNumberOfMessagesVisible'),
        queueMetric('inflight', 'ApproximateNumberOfMessagesNotVisible'),
        { id: 'held', expression: 'visible + inflight', label: 'messages in the dead-letter queue', returnData: true },
      ],
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      ...actions,
    });
  };
  deadLetters('JobsDlqNotEmpty', queues.jobsDlq, 'Jobs that failed every attempt');
  deadLetters('EventsDlqNotEmpty', queues.eventsDlq, 'Events that could not be delivered');

  new aws.cloudwatch.MetricAlarm('OldestJobWaiting', {
    alarmDescription: `A job has waited more than ${config.alarms.oldestJobMinutes} minutes`,
    namespace: 'AWS/SQS',
    metricName: 'ApproximateAgeOfOldestMessage',
    dimensions: { QueueName: queues.jobs.nodes.queue.name },
    statistic: 'Maximum',
    period: MINUTE,
    evaluationPeriods: 2,
    threshold: config.alarms.oldestJobMinutes * MINUTE,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    ...actions,
  });

  const groupMetric = (id: string, metricName: string) => ({
    id,
    returnData: false,
    metric: { namespace: 'AWS/AutoScaling', metricName, dimensions: { AutoScalingGroupName: fleetGroupName }, period: MINUTE, stat: 'Maximum' },
  });
  new aws.cloudwatch.MetricAlarm('FleetNotStarting', {
    alarmDescription: `GPU capacity wanted but no instance in service for ${config.alarms.fleetStartMinutes} minutes (spot capacity, boot script, image?)`,
    metricQueries: [
      groupMetric('desired', 'GroupDesiredCapacity'),
      groupMetric('inservice', 'GroupInServiceInstances'),
      { id: 'stuck', expression: 'IF(desired > 0 AND inservice == 0, 1, 0)', label: 'wanted but none in service', returnData: true },
    ],
    evaluationPeriods: config.alarms.fleetStartMinutes,
    datapointsToAlarm: config.alarms.fleetStartMinutes,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    ...actions,
  });
  // Instances in service while nothing waits or runs, for N hours straight: scale-in is broken (protection
  // left set, the scaler failing, a minimum above 0 forgotten). One datapoint per hour, N in a row.
  const queueMetric = (id: string, metricName: string) => ({
    id,
    returnData: false,
    metric: { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queues.jobs.nodes.queue.name }, period: 3600, stat: 'Maximum' },
  });
  new aws.cloudwatch.MetricAlarm('FleetIdleInService', {
    alarmDescription: `GPU instances in service for ${config.alarms.idleFleetHours} h with no job waiting or running (scale-in protection stuck, scaler failing, minimum above 0?)`,
    metricQueries: [
      { id: 'inservice', returnData: false, metric: { namespace: 'AWS/AutoScaling', metricName: 'GroupInServiceInstances', dimensions: { AutoScalingGroupName: fleetGroupName }, period: 3600, stat: 'Minimum' } },
      queueMetric('waiting', 'ApproximateNumberOfMessagesVisible'),
      queueMetric('running', 'ApproximateNumberOfMessagesNotVisible'),
      { id: 'idle', expression: 'IF(inservice > 0 AND waiting + running == 0, 1, 0)', label: 'in service with an empty queue', returnData: true },
    ],
    evaluationPeriods: config.alarms.idleFleetHours,
    datapointsToAlarm: config.alarms.idleFleetHours,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    ...actions,
  });

  for (const fn of functions) {
    for (const [metricName, what] of [
      ['Errors', 'failed'],
      ['Throttles', 'was throttled (reserved concurrency reached: a flood, or set CASCADE_FRONT_END_CONCURRENCY higher)'],
    ] as const) {
      new aws.cloudwatch.MetricAlarm(`${fn.id}${metricName}`, {
        alarmDescription: `Lambda ${fn.id} ${what} in the last 5 minutes`,
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: fn.name },
        statistic: 'Sum',
        period: 5 * MINUTE,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        ...actions,
      });
    }
  }

  if (config.alarms.monthlyBudgetUsd > 0) {
    const notify = (threshold: number, notificationType: 'ACTUAL' | 'FORECASTED') => ({
      comparisonOperator: 'GREATER_THAN',
      threshold,
      thresholdType: 'PERCENTAGE',
      notificationType,
      subscriberSnsTopicArns: [topic.arn],
      subscriberEmailAddresses: config.alarms.emails,
    });
    new aws.budgets.Budget('MonthlyBudget', {
      budgetType: 'COST',
      limitAmount: config.alarms.monthlyBudgetUsd.toFixed(2),
      limitUnit: 'USD',
      timeUnit: 'MONTHLY',
      // SST tags every resource of the app with its stage; activate "sst:stage" as a cost allocation tag once
      // (Billing → Cost allocation tags), or the filter sees nothing.
      costFilters: [{ name: 'TagKeyValue', values: [`user:sst:stage$${$app.stage}`] }],
      notifications: [notify(80, 'ACTUAL'), notify(100, 'FORECASTED')],
    });
    // AWS Budgets publishes to the topic only if the topic's policy lets it.
    new aws.sns.TopicPolicy('AlarmsBudgetPublish', {
      arn: topic.arn,
      policy: topic.arn.apply((arn) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'CloudWatchAlarms', Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'SNS:Publish', Resource: arn },
            { Sid: 'Budgets', Effect: 'Allow', Principal: { Service: 'budgets.amazonaws.com' }, Action: 'SNS:Publish', Resource: arn },
          ],
        }),
      ),
    });
  }
  return { topic };
}
