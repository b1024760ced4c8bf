/**
 * Real Discord protocol for tests: an Ed25519 key pair made here with node:crypto, signed
 * interaction payloads (`X-Signature-Ed25519` over `timestamp + body`), and Lambda function-URL
 * events around them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { functionUrlPost } from '../../support/function-url-event.ts';
import { APP_ID, CHANNEL_ID, GUILD_ID, USER_ID } from './fixtures.ts';

export interface SigningKeys {
  publicKeyHex: string;
  privateKey: KeyObject;
}

export function makeSigningKeys(): SigningKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { publicKeyHex: der.subarray(der.length - 32).toString('hex'), privateKey };
}

export function signBody(keys: SigningKeys, body: string, timestamp: string): string {
  return sign(null, Buffer.from(timestamp + body, 'utf8'), keys.privateKey).toString('hex');
}

export function nowSeconds(offsetSeconds = 0): string {
  return String(Math.floor(Date.now() / 1000) + offsetSeconds);
}

export interface EventOptions {
  timestamp?: string;
  signature?: string;
  omitHeaders?: boolean;
  base64?: boolean;
}

export function functionUrlEvent(keys: SigningKeys, body: string, options: EventOptions = {}): LambdaFunctionURLEvent {
  const timestamp = options.timestamp ?? nowSeconds();
  const signature = options.signature ?? signBody(keys, body, timestamp);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)' };
  if (!options.omitHeaders) {
    headers['x-signature-ed25519'] = signature;
    headers['x-signature-timestamp'] = timestamp;
  }
  return functionUrlPost(body, headers, { base64: options.base64 });
}

export const DM_CHANNEL_ID = '1210000000000000021';

/** A snowflake created now (so the interaction token counts as fresh). */
let sequence = 0;
export function freshSnowflake(): string {
  return String(((BigInt(Date.now()) - 1_420_070_400_000n) << 22n) + BigInt(sequence++ % 4096));
}

interface Actor {
  userId?: string;
  nsfw?: boolean;
  permissions?: string;
  /** A DM with the bot: no guild, `user` instead of `member`. */
  dm?: boolean;
}

function base(actor: Actor = {}) {
  if (actor.dm) {
    return {
      id: freshSnowflake(),
      application_id: APP_ID,
      token: `itoken-${freshSnowflake()}-secret`,
      version: 1,
      channel_id: DM_CHANNEL_ID,
      channel: { id: DM_CHANNEL_ID, type: 1 },
      user: { id: actor.userId ?? USER_ID, username: 'tester' },
      locale: 'en-US',
      app_permissions: '117760',
      entitlements: [],
      authorizing_integration_owners: { '0': GUILD_ID },
      context: 1,
      attachment_size_limit: 10_485_760,
    };
  }
  return {
    id: freshSnowflake(),
    application_id: APP_ID,
    token: `itoken-${freshSnowflake()}-secret`,
    version: 1,
    guild_id: GUILD_ID,
    channel_id: CHANNEL_ID,
    channel: { id: CHANNEL_ID, type: 0, nsfw: actor.nsfw ?? false },
    member: { user: { id: actor.userId ?? USER_ID, username: 'tester' }, permissions: actor.permissions ?? '2147483647' },
    locale: 'en-US',
    guild_locale: 'en-US',
    app_permissions: '117760',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
}

export function ping() {
  return { id: freshSnowflake(), application_id: APP_ID, type: 1, token: 'ping-token', version: 1 };
}

export function slashCommand(name: string, options: Array<{ name: string; type: number; value: string | number | boolean }>, actor?: Actor) {
  return { ...base(actor), type: 2, data: { id: '1', name, type: 1, options } };
}

export function autocomplete(option: string, typed: string) {
  return { ...base(), type: 4, data: { id: '1', name: 'imagine', type: 1, options: [{ name: 'prompt', type: 3, value: 'x' }, { name: option, type: 3, value: typed, focused: true }] } };
}

export function buttonPress(customId: string, messageId: string, actor?: Actor) {
  return { ...base(actor), type: 3, data: { custom_id: customId, component_type: 2 }, message: { id: messageId, channel_id: CHANNEL_ID } };
}

export function modalSubmit(customId: string, fields: Record<string, string>, messageId?: string, actor?: Actor) {
  return {
    ...base(actor),
    type: 5,
    data: { custom_id: customId, components: Object.entries(fields).map(([id, value]) => ({ type: 1, components: [{ type: 4, custom_id: id, value }] })) },
    ...(messageId ? { message: { id: messageId, channel_id: CHANNEL_ID } } : {}),
  };
}
