/**
 * Slack requests signed the way Slack signs them: X-Slack-Signature = 'v0=' + HMAC-SHA256(secret,
 * 'v0:' + timestamp + ':' + raw body), wrapped in a Lambda function URL event (payload v2).
 */
import { createHmac } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { functionUrlPost } from '../../support/function-url-event.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export interface SignOptions {
  /** Seconds since epoch; default now. */
  timestamp?: number;
  secret?: string;
  headers?: Record<string, string>;
  base64?: boolean;
  /** Replace the computed signature. */
  signature?: string;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signedEvent(body: string, contentType: string, options: SignOptions = {}): LambdaFunctionURLEvent {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': options.signature ?? slackSignature(options.secret ?? SIGNING_SECRET, timestamp, body),
    ...options.headers,
  };
  return functionUrlPost(body, headers, { base64: options.base64 });
}

export function slashCommandBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';
