/**
 * Whether any GPU runner is up. The message model says "GPU waking up" (instead of a bare queue
 * position) while jobs wait and the fleet is scaling from zero. AWS implements this from the
 * autoscaling group; locally the runner is always there.
 */
export interface FleetStatus {
  /** True when at least one runner is running and polling the jobs queue. */
  isWarm(): Promise<boolean>;
}

/** For `npm start` and tests: the local runner is always up. */
export const alwaysWarm: FleetStatus = { isWarm: async () => true };
