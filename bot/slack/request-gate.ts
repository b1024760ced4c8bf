/**
 * The checks every Slack HTTP request passes before Bolt sees it, in this order: size, signature
 * and timestamp (on the raw body, before any parsing), then the envelope's shape. Bolt's own check
 * refuses only timestamps older than 5 minutes; a signed request from the future would otherwise
 * stay replayable for as long as its timestamp is ahead, so — as the Discord verifier does — a
 * timestamp more than a minute ahead of our clock is refused too. Bolt then dereferences fields of
 * the envelope (`event.channel`, `view.callback_id`, `actions[0]`) before any listener runs, so a
 * signed body of the wrong shape is answered 400 here instead of crashing it into a 500.
 *
 * @example
 *   const verdict = screenSlackRequest(rawBody, (name) => headers[name], { signingSecret });
 *   if (!verdict.ok) return { statusCode: verdict.status, body: verdict.reason };
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';

/** Slack's payloads are a few KiB (a view submission tens of KiB); anything this large is not from Slack. */
export const MAX_SLACK_BODY_BYTES = 512 * 1024;
/** Oldest accepted timestamp, seconds before now (Slack's documented window, as Bolt checks it). */
export const SLACK_MAX_AGE_SECONDS = 300;
/** How far ahead of our clock a timestamp may be (clock skew), seconds; the Discord verifier's default. */
export const SLACK_MAX_FUTURE_SECONDS = 60;

export type GateVerdict = { ok: true } | { ok: false; status: 400 | 401 | 413; reason: string };

export interface GateOptions {
  signingSecret: string;
  /** ms since epoch; for tests. */
  now?: () => number;
}

export function screenSlackRequest(rawBody: string, header: (name: string) => string | undefined, options: GateOptions): GateVerdict {
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_SLACK_BODY_BYTES) return { ok: false, status: 413, reason: 'body too large' };
  const signature = header('x-slack-signature');
  const timestamp = header('x-slack-request-timestamp');
  if (!signature || !timestamp || !/^v0=[0-9a-f]{64}$/.test(signature) || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, status: 401, reason: 'missing or malformed signature headers' };
  }
  const expected = createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:${rawBody}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature.slice(3), 'hex'))) return { ok: false, status: 401, reason: 'invalid request signature' };
  // Only a verified request may learn that its timestamp was the problem.
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const at = Number(timestamp);
  if (at < nowSeconds - SLACK_MAX_AGE_SECONDS || at > nowSeconds + SLACK_MAX_FUTURE_SECONDS) return { ok: false, status: 401, reason: 'timestamp outside the accepted window' };
  const problem = envelopeProblem(rawBody, header('content-type'));
  return problem === undefined ? { ok: true } : { ok: false, status: 400, reason: problem };
}

type Envelope = Record<string, unknown>;

/** Interaction payloads, whose `user.id` Bolt reads before any listener runs. */
const INTERACTIVE_TYPES: ReadonlySet<string> = new Set(['block_actions', 'block_suggestion', 'view_submission', 'view_closed', 'shortcut', 'message_action']);

const isObject = (value: unknown): value is Envelope => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses the body as Bolt will (AwsLambdaReceiver.parseRequestBody) and names what Bolt could not handle. */
function envelopeProblem(rawBody: string, contentType: string | undefined): string | undefined {
  let body: unknown;
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const fields = parseQuery(rawBody);
      if (Object.values(fields).some((value) => typeof value !== 'string')) return 'a form field is repeated';
      body = typeof fields.payload === 'string' ? JSON.parse(fields.payload) : fields;
    } else {
      body = JSON.parse(rawBody);
    }
  } catch {
    return 'body is not the JSON or form encoding it claims';
  }
  if (!isObject(body)) return 'body is not an object';
  if ('type' in body && typeof body.type !== 'string') return 'type is not a string';
  if ('event' in body && !(isObject(body.event) && typeof body.event.type === 'string')) return 'event is not an event object';
  if ('actions' in body && !(Array.isArray(body.actions) && body.actions.every(isObject))) return 'actions is not a list of actions';
  if ((body.type === 'view_submission' || body.type === 'view_closed') && !(isObject(body.view) && typeof body.view.callback_id === 'string')) return 'view is missing';
  if ((body.type === 'shortcut' || body.type === 'message_action') && typeof body.callback_id !== 'string') return 'callback_id is missing';
  if (typeof body.type === 'string' && INTERACTIVE_TYPES.has(body.type) && !(isObject(body.user) && typeof body.user.id === 'string')) return 'user is missing';
  if (body.type === 'dialog_submission' || body.type === 'interactive_message') return `${body.type} is not used by this app`;
  return undefined;
}
