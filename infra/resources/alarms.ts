/**
 * CloudWatch alarms to an SNS topic (e-mail subscription when CASCADE_ALARM_EMAIL is set):
 * - a job or an event landed in a dead-letter queue (a user got a failure, or never got a message);
 * - the oldest waiting job is older than the threshold (fleet too small, or not coming up);
 * - the fleet is failing to start: capacity desired, nothing in service, for N minutes (no spot capacity,
 *   a broken AMI or boot script, a missing image).
 */
import type { InfraConfig } from '../config.js';
import type { Queues } from './queues.js';

const MINUTE = 60;

export function createAlarms(config: InfraConfig, queues: Queues, fleetGroupName: string) {
  const topic = new aws.sns.Topic('Alarms');
  if (config.alarms.email) {
    new aws.sns.TopicSubscription('AlarmsEmail', { topic: topic.arn, protocol: 'email', endpoint: config.alarms.email });
  }
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
  return { topic };
}
