/**
 * Per-user and per-channel defaults, stored in the object store (nothing in process memory):
 *   settings/users/{platform}/{userId}.json      — the user's defaults
 *   settings/channels/{platform}/{channelId}.json — the channel's defaults and who may press buttons
 * Precedence when a job is built: explicit options > user defaults > channel defaults > built-in defaults.
 * Everything read back is validated; a corrupt record is treated as absent (and reported by `readSettings`)
 * rather than blocking every /imagine in the channel.
 */
import { z } from 'zod';
import { GenerationRequestSchema, type Platform } from '../core/job.js';
import type { BlobStore } from '../core/ports.js';

/** The options a user or channel may preset. */
export const RequestDefaultsSchema = GenerationRequestSchema.pick({
  negativePrompt: true,
  aspect: true,
  size: true,
  steps: true,
  cfg: true,
  chaos: true,
  style: true,
  lite: true,
}).partial();
export type RequestDefaults = z.infer<typeof RequestDefaultsSchema>;

/** Who may press a job's buttons (delete and cancel stay owner-only). */
export const ButtonPolicySchema = z.enum(['requester', 'everyone']);
export type ButtonPolicy = z.infer<typeof ButtonPolicySchema>;

export const UserSettingsSchema = z.strictObject({ v: z.literal(1), defaults: RequestDefaultsSchema });
export type UserSettings = z.infer<typeof UserSettingsSchema>;

export const ChannelSettingsSchema = z.strictObject({
  v: z.literal(1),
  defaults: RequestDefaultsSchema,
  /** Default 'requester'. */
  buttons: ButtonPolicySchema.optional(),
});
export type ChannelSettings = z.infer<typeof ChannelSettingsSchema>;

export const DEFAULT_BUTTON_POLICY: ButtonPolicy = 'requester';

export const settingsKeys = {
  /** Everything below is stored under it. */
  prefix: 'settings/',
  user: (platform: Platform, userId: string) => `settings/users/${platform}/${encodeURIComponent(userId)}.json`,
  channel: (platform: Platform, channelId: string) => `settings/channels/${platform}/${encodeURIComponent(channelId)}.json`,
} as const;

export interface EffectiveSettings {
  user: UserSettings;
  channel: ChannelSettings;
  /** Channel defaults overlaid with the user's. */
  defaults: RequestDefaults;
  buttons: ButtonPolicy;
}

async function readJson<T>(blobs: BlobStore, key: string, schema: z.ZodType<T>, fallback: T): Promise<T> {
  const bytes = await blobs.get(key);
  if (!bytes) return fallback;
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

export async function readUserSettings(blobs: BlobStore, platform: Platform, userId: string): Promise<UserSettings> {
  return readJson(blobs, settingsKeys.user(platform, userId), UserSettingsSchema, { v: 1, defaults: {} });
}

export async function readChannelSettings(blobs: BlobStore, platform: Platform, channelId: string): Promise<ChannelSettings> {
  return readJson(blobs, settingsKeys.channel(platform, channelId), ChannelSettingsSchema, { v: 1, defaults: {} });
}

export async function readEffectiveSettings(blobs: BlobStore, platform: Platform, userId: string, channelId: string): Promise<EffectiveSettings> {
  const [user, channel] = await Promise.all([readUserSettings(blobs, platform, userId), readChannelSettings(blobs, platform, channelId)]);
  return { user, channel, defaults: { ...channel.defaults, ...user.defaults }, buttons: channel.buttons ?? DEFAULT_BUTTON_POLICY };
}

export async function writeUserSettings(blobs: BlobStore, platform: Platform, userId: string, settings: UserSettings): Promise<void> {
  await blobs.put(settingsKeys.user(platform, userId), JSON.stringify(UserSettingsSchema.parse(settings)), 'application/json');
}

export async function writeChannelSettings(blobs: BlobStore, platform: Platform, channelId: string, settings: ChannelSettings): Promise<void> {
  await blobs.put(settingsKeys.channel(platform, channelId), JSON.stringify(ChannelSettingsSchema.parse(settings)), 'application/json');
}
