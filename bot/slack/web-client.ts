/**
 * The one place Slack Web API clients are built, so every caller gets the same retry policy.
 *
 * Slack answers a rate-limited call with HTTP 429 and `Retry-After` (seconds). Two roles, two
 * behaviours:
 * - `wait` (command handlers posting a placeholder or an ephemeral error): the client honours
 *   Retry-After itself (it pauses its request queue, then retries), at most `retries` times;
 * - `reject` (the poster, driven by the throttling dispatcher): a 429 surfaces at once as
 *   `WebAPIRateLimitedError` with `retryAfter`, so the dispatcher keeps coalescing progress instead of
 *   blocking on one message; the poster turns it into a retryable DeliveryError with `retryAfterMs`.
 * Network failures and 5xx are retried a few times with jittered back-off in both roles; Slack's
 * default (10 retries over ~30 minutes) would hold an update far past its usefulness.
 *
 * @example
 *   const client = createSlackClient(botToken, { apiUrl: 'http://127.0.0.1:4000/api/', onRateLimit: 'reject' });
 */
import { LogLevel, WebClient, type RetryOptions } from '@slack/web-api';

export const SLACK_API_URL = 'https://slack.com/api/';

/** ~0.5 s, 1 s, 2 s, 4 s: gives up within ~10 s (plus any Retry-After waits). */
export const SLACK_RETRY_POLICY: RetryOptions = Object.freeze({ retries: 4, factor: 2, minTimeout: 500, maxTimeout: 4_000, randomize: true });

/** Per-request timeout; a hung connection must not hold a Lambda to its own timeout. */
export const SLACK_REQUEST_TIMEOUT_MS = 10_000;

export interface SlackClientOptions {
  /** `https://slack.com/api/` unless given (tests: a recording server on 127.0.0.1). */
  apiUrl?: string;
  /** Default 'reject' (the poster's behaviour); Bolt's listener client passes 'wait'. */
  onRateLimit?: 'wait' | 'reject';
  /** Tests shorten the back-off; production keeps SLACK_RETRY_POLICY. */
  retryConfig?: RetryOptions;
}

/** The options Bolt's `clientOptions` and `new WebClient` both take. */
export function slackClientOptions(options: SlackClientOptions = {}) {
  return {
    slackApiUrl: options.apiUrl ?? SLACK_API_URL,
    retryConfig: options.retryConfig ?? SLACK_RETRY_POLICY,
    rejectRateLimitedCalls: (options.onRateLimit ?? 'reject') === 'reject',
    timeout: SLACK_REQUEST_TIMEOUT_MS,
    // The client logs request bodies at debug level; keep it at warn so prompts and tokens stay out of logs.
    logLevel: LogLevel.WARN,
  };
}

export function createSlackClient(botToken: string, options: SlackClientOptions = {}): WebClient {
  return new WebClient(botToken, slackClientOptions(options));
}
