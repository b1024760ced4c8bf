/**
 * The errors the system throws on purpose: every one is a CodedError. `code` is stable and
 * machine-readable (it ends up in `failed` events and logs); `message` is a sentence a user or
 * operator can act on. Messages never carry secrets: callers pass context, not credentials.
 * Refusals a user can act on are not thrown: they are `Rejected` replies (bot/commands/context.ts).
 */

export type ErrorCode =
  // core
  | 'invalid_options'
  | 'invalid_config'
  | 'too_many_pending'
  | 'parent_missing'
  | 'service_unavailable'
  | 'port_in_use'
  | 'cancelled'
  | 'corrupt_record'
  | 'unsupported_request'
  // gpu-runner
  | 'invalid_bundle'
  // bot
  | 'invalid_button_id'
  | 'delivery_failed'
  | 'attachment_too_large'
  | 'invalid_discord_message'
  | 'invalid_slack_payload'
  | 'invalid_slack_blocks'
  | 'slack_upload_failed';

export class CodedError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** One bad option in a `/imagine` request: which option, and what is allowed. */
export interface OptionProblem {
  option: string;
  message: string;
}

/** Every problem of one `/imagine` request at once, so the user can fix them in one go. */
export class OptionsError extends CodedError<'invalid_options'> {
  readonly problems: readonly OptionProblem[];

  constructor(problems: OptionProblem[]) {
    super('invalid_options', problems.map((p) => p.message).join('\n'), { options: problems.map((p) => p.option) });
    this.problems = problems;
  }
}

/** The environment does not describe a runnable configuration; lists every bad variable (names only, never values). */
export class ConfigError extends CodedError<'invalid_config'> {
  readonly issues: readonly string[];

  constructor(issues: string[]) {
    super('invalid_config', `invalid configuration:\n  ${issues.join('\n  ')}`, {});
    this.issues = issues;
  }
}

/** A user already has the maximum number of jobs waiting or running. */
export class TooManyPendingError extends CodedError<'too_many_pending'> {
  readonly pending: number;
  readonly limit: number;
  constructor(pending: number, limit: number) {
    super(
      'too_many_pending',
      `You already have ${pending} image${pending === 1 ? '' : 's'} in progress (the limit is ${limit}). ` +
        'Wait for one to finish, then try again.',
      { pending, limit },
    );
    this.pending = pending;
    this.limit = limit;
  }
}

/** A variation or upscale whose parent job has no stored result (expired or never finished). */
export class ParentMissingError extends CodedError<'parent_missing'> {
  readonly parentJobId: string;
  constructor(parentJobId: string, detail: string) {
    super('parent_missing', `The original image (job ${parentJobId}) is no longer available: ${detail}.`, { parentJobId });
    this.parentJobId = parentJobId;
  }
}

/** The queue or object store could not be reached (emulator down, network, AWS outage). Retryable. */
export class ServiceUnavailableError extends CodedError<'service_unavailable'> {
  constructor(service: string, endpoint: string | undefined, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'service_unavailable',
      `${service} is unreachable${endpoint ? ` at ${endpoint}` : ''}: ${why}`,
      { service, endpoint },
      { cause },
    );
  }
}

export class PortInUseError extends CodedError<'port_in_use'> {
  constructor(host: string, port: number) {
    super('port_in_use', `port ${port} on ${host} is already in use; stop the other process or choose another port`, { host, port });
  }
}

/** Network-level failures worth retrying with back-off, as opposed to a request the service rejected. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  const connectionCodes = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'UND_ERR_SOCKET'];
  if (typeof code === 'string' && connectionCodes.includes(code)) return true;
  if (error.name === 'TimeoutError' || error.name === 'RequestTimeout') return true;
  const cause = (error as { cause?: unknown }).cause;
  if (cause && cause !== error && isConnectionError(cause)) return true;
  if (error instanceof ServiceUnavailableError) return true;
  return /ECONNREFUSED|ECONNRESET|socket hang up/.test(error.message);
}

/**
 * The loaded model cannot serve this kind of request (e.g. an image prompt on a bundle without image_encoder.onnx).
 * Retrying cannot help: the runner tells the user and drops the job.
 */
export class UnsupportedRequestError extends CodedError<'unsupported_request'> {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('unsupported_request', message, context);
  }
}
