/** Takes every job now on the queue (received and deleted), so a test can assert what was enqueued and the next one starts empty. */
import type { Job } from '../../core/job.ts';
import type { JobQueue } from '../../core/ports.ts';

export async function takeJobs(queue: JobQueue): Promise<Job[]> {
  const jobs: Job[] = [];
  for (;;) {
    const received = await queue.receive({ waitSeconds: 0 });
    if (!received) return jobs;
    if (received.job) jobs.push(received.job);
    await queue.delete(received.receiptHandle);
  }
}
