/**
 * Turns a Lambda SQS batch from the events queue into the dispatcher's `ReceivedEvent`s, and the
 * dispatcher's acks back into Lambda's partial-batch response.
 *
 * The dispatcher acks an event once it is folded (intermediate) or delivered (final). Under an SQS
 * event source mapping a message is deleted by Lambda when it is NOT reported as failed, so "acked"
 * maps to success and "not acked" to a batch item failure (redelivered later). On a FIFO queue, once
 * a message of a group fails, every later message of that group in the batch is reported too, or
 * SQS would deliver them ahead of the retried one (AWS Lambda docs, "partial batch responses" for FIFO).
 */
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { parseEvent } from '../core/aws/sqs-event-bus.ts';
import type { EventBus, ReceivedEvent } from '../core/ports.ts';

export function toReceivedEvent(record: SQSRecord): ReceivedEvent {
  return { receiptHandle: record.receiptHandle, ...parseEvent(record.body) };
}

/**
 * The dispatcher's EventBus on Lambda: acks are recorded, Lambda deletes the messages. One dispatcher (and
 * so one bus) lives as long as the warm Lambda instance; `begin()` starts the record of one invocation, and
 * an ack that lands later (a delivery finished in a later invocation) goes to that later record, where it
 * matches none of its records and changes nothing.
 */
export class InvocationAcks implements EventBus {
  acked = new Set<string>();

  /** A fresh record for the invocation starting now. */
  begin(): Set<string> {
    this.acked = new Set<string>();
    return this.acked;
  }

  async publish(): Promise<void> {
    throw new Error('the Lambda dispatcher only consumes events');
  }

  async receive(): Promise<ReceivedEvent[]> {
    return [];
  }

  async ack(receiptHandle: string): Promise<void> {
    this.acked.add(receiptHandle);
  }
}

export function batchItemFailures(records: readonly SQSRecord[], acked: ReadonlySet<string>): SQSBatchItemFailure[] {
  const failedGroups = new Set<string>();
  const failures: SQSBatchItemFailure[] = [];
  for (const record of records) {
    const group = record.attributes.MessageGroupId;
    const blockedByEarlier = group !== undefined && failedGroups.has(group);
    if (!acked.has(record.receiptHandle) || blockedByEarlier) {
      failures.push({ itemIdentifier: record.messageId });
      if (group !== undefined) failedGroups.add(group);
    }
  }
  return failures;
}
