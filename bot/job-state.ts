/**
 * What the dispatcher knows about one job at a given moment, folded from events.
 *
 * Events arrive at least once and in any order (SQS standard queues), so folding is idempotent and
 * monotonic: a final state (completed/failed for good/cancelled) is never left again, progress
 * never goes backwards, and a stale `queued` after `started` changes nothing. The message model
 * renders a `JobState`; nothing here touches a platform.
 */
import type { JobEvent, Result, StageName } from '../core/job.ts';

export type JobPhase = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'deleted';

export interface JobFailure {
  code: string;
  reason: string;
  /** True while the runner retries on another machine: the message says so instead of giving up. */
  willRetry: boolean;
}

export interface JobState {
  phase: JobPhase;
  /** 1-based place in the queue, when known (approximate). */
  position?: number;
  /** True when the job waits and no GPU runner is up: the message says "GPU waking up". */
  waking?: boolean;
  /** Set with `waking` when the fleet cannot start (FleetStatus.startProblem): the message says why instead. */
  fleetProblem?: string;
  /** Whole-job progress in [0, 1] and the stage it is in. */
  progress?: { fraction: number; stage?: StageName };
  /** Key of the latest preview image (jobs/{id}/preview.jpg: the key stays, the bytes change). */
  previewKey?: string;
  /** Progress at which that preview was taken: a newer preview has a larger fraction. */
  previewFraction?: number;
  /** Phase 'completed': what the event carried, else result.json as read by the caller. */
  result?: Result;
  failure?: JobFailure;
  /** Runner attempt number from `started` (> 1 means "retrying on another GPU"). */
  attempt?: number;
  /** `at` of the newest event folded in (ms since epoch). */
  updatedAt: number;
}

export const INITIAL_STATE: JobState = { phase: 'queued', updatedAt: 0 };

const FINAL_PHASES: ReadonlySet<JobPhase> = new Set(['completed', 'failed', 'cancelled', 'deleted']);

export function isFinal(state: JobState): boolean {
  return FINAL_PHASES.has(state.phase);
}

/**
 * Folds one event into the state. `completed` records the result it carries (for this job); without one the
 * caller loads result.json and sets `result`.
 */
export function applyEvent(state: JobState, event: JobEvent): JobState {
  if (isFinal(state)) return state;
  const updatedAt = Math.max(state.updatedAt, event.at);
  switch (event.type) {
    case 'queued':
      if (state.phase !== 'queued') return state;
      return { ...state, updatedAt, ...(event.position === undefined ? {} : { position: event.position }) };
    case 'started': {
      const { position: _position, waking: _waking, failure: _failure, ...rest } = state;
      return { ...rest, phase: 'running', attempt: Math.max(state.attempt ?? 0, event.attempt), updatedAt };
    }
    case 'progress': {
      const fraction = Math.max(state.progress?.fraction ?? 0, event.fraction);
      const stage = event.fraction >= (state.progress?.fraction ?? 0) ? event.stage : state.progress?.stage;
      const { position: _position, waking: _waking, ...rest } = state;
      return { ...rest, phase: 'running', progress: stage === undefined ? { fraction } : { fraction, stage }, updatedAt };
    }
    case 'preview': {
      if (state.previewFraction !== undefined && event.fraction <= state.previewFraction) return state;
      const { position: _position, waking: _waking, ...rest } = state;
      const fraction = Math.max(state.progress?.fraction ?? 0, event.fraction);
      return { ...rest, phase: 'running', previewKey: event.key, previewFraction: event.fraction, progress: { ...state.progress, fraction }, updatedAt };
    }
    case 'completed': {
      const carried = event.result?.jobId === event.jobId ? { result: event.result } : {};
      return { ...state, phase: 'completed', progress: { fraction: 1 }, ...carried, updatedAt };
    }
    case 'board_changed':
      // Not a job's event (the dispatcher routes it to the board header); nothing to fold.
      return state;
    case 'failed': {
      const failure = { code: event.code, reason: event.reason, willRetry: event.willRetry };
      if (event.willRetry) return { ...state, failure, updatedAt };
      return { ...state, phase: event.code === 'cancelled' ? 'cancelled' : 'failed', failure, updatedAt };
    }
  }
}
