/**
 * Job ids. An id derived from the platform's interaction id makes redelivery harmless: the same click
 * always names the same job, so S3 keys and the message the job owns line up on every retry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { JobIdSchema, type JobId } from './job.ts';

/**
 * @example jobIdFrom('discord:1184343545534341120') // → 'j' + 31 hex chars, the same on every call
 * @example jobIdFrom() // → 'j' + 31 random hex chars
 */
export function jobIdFrom(sourceId?: string): JobId {
  const hex = sourceId === undefined ? randomBytes(16).toString('hex') : createHash('sha256').update(sourceId).digest('hex');
  return JobIdSchema.parse(`j${hex.slice(0, 31)}`);
}
