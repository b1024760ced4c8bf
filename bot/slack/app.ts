/**
 * Builds the Bolt app in one of its two transports, with the same listeners:
 * - `lambda`: HTTP through Bolt's AwsLambdaReceiver, behind functions/slack-events.ts's gate (signature check over the raw body with the
 *   signing secret, 5-minute window, constant-time compare; 401 otherwise), used by functions/slack-events.ts;
 * - `socket`: Socket Mode over a WebSocket opened with the app-level token (xapp-…), used by `npm start`.
 *
 * Authorization is static (one workspace install, the bot token from the environment) and does not
 * call auth.test per cold start: that round trip would sit on the 3-second ack path.
 *
 * @example
 *   const { app, receiver } = createSlackApp({ transport: 'lambda', botToken, signingSecret }, { bot });
 *   const handle = await receiver!.start();   // (event, context) => Promise<{ statusCode, body }>
 */
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import type { RetryOptions } from '@slack/web-api';
import { registerSlackListeners, type SlackListenerDeps } from './listeners.ts';
import { slackClientOptions } from './web-client.ts';

export type SlackAppOptions = {
  botToken: string;
  /** Recording server in tests; slack.com otherwise. */
  apiUrl?: string;
  retryConfig?: RetryOptions;
  /** Slack's own log level for Bolt internals (default warn: nothing with request bodies). */
  logLevel?: LogLevel;
} & ({ transport: 'lambda'; signingSecret: string } | { transport: 'socket'; appToken: string });

export interface SlackApp {
  app: App;
  /** Present for the lambda transport. */
  receiver?: AwsLambdaReceiver;
}

export function createSlackApp(options: SlackAppOptions, deps: SlackListenerDeps): SlackApp {
  const logLevel = options.logLevel ?? LogLevel.WARN;
  // Over HTTP the response (the ack) waits for the listener, so a 429 must not make it wait out
  // Retry-After past Slack's 3 seconds: the listener tells the user instead. Socket Mode has acked already.
  const onRateLimit = options.transport === 'lambda' ? 'reject' : 'wait';
  const common = {
    authorize: async () => ({ botToken: options.botToken }),
    // Our bot never mentions itself, and without auth.test Bolt cannot know its own ids.
    ignoreSelf: false,
    logLevel,
    clientOptions: slackClientOptions({ onRateLimit, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}), ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}) }),
  };
  if (options.transport === 'lambda') {
    // functions/slack-events.ts verifies every request (bot/slack/request-gate.ts: the same HMAC and 5-minute
    // window, plus future timestamps) before Bolt; a request handed to an asynchronous invocation may reach
    // Bolt after its 5 minutes, so Bolt must not verify a second time. (A change by operator, #23.)
    const receiver = new AwsLambdaReceiver({ signingSecret: options.signingSecret, logLevel, signatureVerification: false });
    const app = new App({ ...common, receiver });
    registerSlackListeners(app, deps);
    answerListenerErrors(app, deps);
    return { app, receiver };
  }
  const app = new App({ ...common, socketMode: true, appToken: options.appToken });
  registerSlackListeners(app, deps);
  answerListenerErrors(app, deps);
  return { app };
}

/**
 * A listener that still throws has already acked (every listener acks first) and told the actor
 * what it could; Bolt's default would rethrow into a 500, which Slack retries three times. Logged
 * (the message only, never the body) and swallowed instead.
 */
function answerListenerErrors(app: App, deps: SlackListenerDeps): void {
  app.error(async (error) => {
    deps.log?.error('slack_listener_failed', { code: error.code, error: error.message });
  });
}
