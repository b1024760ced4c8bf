/**
 * Fair FIFO groups in the local emulator, as SQS serves them: fauxqs 1.9.2 always offers the groups of
 * a FIFO queue in the order they first appeared, so a user who queued 15 jobs first had all 15 run
 * before anyone who queued later (each time their group unlocked it was first again). SQS instead
 * interleaves message groups. This moves every group that has a message in flight behind the
 * waiting ones after each receive, so groups take turns.
 *
 * fauxqs exports neither its store nor its queue class, so the queue module is loaded by its file
 * (the version is pinned exactly; test/adversarial/playground-fairness.test.ts fails if that
 * module's shape changes).
 */
interface FifoQueueInternals {
  fifoMessages: Map<string, unknown[]>;
  fifoLockedGroups: Map<string, number>;
  /** A function property: the patch below keeps the original and calls it with the queue as `this`. */
  dequeue: (this: FifoQueueInternals, ...args: unknown[]) => unknown[];
}

const PATCHED = Symbol.for('cascade-bot.fair-fifo');

export async function makeFifoGroupsTakeTurns(): Promise<void> {
  const module = (await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href)) as { SqsQueue?: { prototype: FifoQueueInternals & { [PATCHED]?: true } } };
  const prototype = module.SqsQueue?.prototype;
  if (!prototype || typeof prototype.dequeue !== 'function') throw new Error('fauxqs: SqsQueue.prototype.dequeue not found; local/fair-fifo.ts needs updating for this fauxqs version');
  if (prototype[PATCHED]) return;
  const dequeue = prototype.dequeue;
  prototype.dequeue = function takeTurns(this: FifoQueueInternals, ...args: unknown[]) {
    const received = dequeue.apply(this, args);
    if (received.length > 0 && this.fifoMessages instanceof Map) {
      for (const group of this.fifoLockedGroups.keys()) {
        const waiting = this.fifoMessages.get(group);
        if (!waiting) continue;
        this.fifoMessages.delete(group);
        this.fifoMessages.set(group, waiting);
      }
    }
    return received;
  };
  prototype[PATCHED] = true;
}
