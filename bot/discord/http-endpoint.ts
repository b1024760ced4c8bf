/**
 * Discord's HTTP interactions, transport-free: raw bytes and headers in, status and JSON out.
 * Order matters: size, then signature (on the raw bytes, before any parsing), then JSON, then the
 * shared router. Anything that fails before the router gets an error status and enqueues nothing.
 */
import type { InteractionRouterDeps, RouteResult } from './acks.ts';
import { routeInteraction } from './interactions.ts';
import type { InteractionVerifier } from './verify.ts';

/** Interaction payloads are a few KiB; anything this large is not from Discord. */
export const MAX_INTERACTION_BYTES = 256 * 1024;

export interface HttpInteractionDeps extends InteractionRouterDeps {
  verify: InteractionVerifier;
}

export type HttpAnswer =
  | { status: 200; body: string; route: Extract<RouteResult, { ok: true }> }
  | { status: 400 | 401 | 413; body: string };

export function answerInteractionRequest(rawBody: Uint8Array, header: (name: string) => string | undefined, deps: HttpInteractionDeps): HttpAnswer {
  if (rawBody.byteLength > MAX_INTERACTION_BYTES) return { status: 413, body: JSON.stringify({ error: 'body too large' }) };
  const verdict = deps.verify(rawBody, header('x-signature-ed25519'), header('x-signature-timestamp'));
  // Discord probes with bad signatures and expects exactly 401; the reason helps operators reading logs.
  if (!verdict.ok) return { status: 401, body: JSON.stringify({ error: 'invalid request signature', reason: verdict.reason }) };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(rawBody).toString('utf8'));
  } catch {
    return { status: 400, body: JSON.stringify({ error: 'body is not JSON' }) };
  }
  const route = routeInteraction(payload, deps);
  if (!route.ok) return { status: 400, body: JSON.stringify({ error: route.error }) };
  return { status: 200, body: JSON.stringify(route.response), route };
}
