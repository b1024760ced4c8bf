/**
 * Whether any GPU runner is up. The message model says "GPU waking up" (instead of a bare queue
 * position) while jobs wait and the fleet is scaling from zero. AWS implements this from the
 * autoscaling group; locally the runner is always there.
 */
export interface FleetStatus {
  /** True when at least one runner is running and polling the jobs queue. */
  isWarm(): Promise<boolean>;
  /**
   * When no runner is up: why the fleet cannot start right now (quota, no capacity, a failing launch), as a
   * sentence for the user; undefined while it is simply starting. Waiting users are told at once instead
   * of watching "GPU waking up" for as long as the problem lasts.
   */
  startProblem?(): Promise<string | undefined>;
}

/** For `npm start` and tests: the local runner is always up. */
export const alwaysWarm: FleetStatus = { isWarm: async () => true };
