/**
 * Per-user and per-channel defaults, stored in the object store (nothing in process memory), under
 * settingsKeys (core/storage-layout.ts): the user's defaults, and the channel's defaults and who may press buttons.
 * Precedence when a job is built: explicit options > user defaults > channel defaults > built-in defaults.
 * Everything read back is validated; a corrupt record is treated as absent rather than blocking every
 * /imagine in the channel.
 */
import { z } from 'zod';
import { GenerationRequestSchema, type Platform } from '../core/job.ts';
import type { BlobStore } from '../core/ports.ts';
import { settingsKeys } from '../core/storage-layout.ts';
import { readRecord, writeRecord } from '../core/stored-records.ts';

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

export interface EffectiveSettings {
  user: UserSettings;
  channel: ChannelSettings;
  /** Channel defaults overlaid with the user's. */
  defaults: RequestDefaults;
  buttons: ButtonPolicy;
}

export async function readUserSettings(blobs: BlobStore, platform: Platform, userId: string): Promise<UserSettings> {
  return (await readRecord(blobs, settingsKeys.user(platform, userId), UserSettingsSchema, { ifCorrupt: 'absent' })) ?? { v: 1, defaults: {} };
}

export async function readChannelSettings(blobs: BlobStore, platform: Platform, channelId: string): Promise<ChannelSettings> {
  return (await readRecord(blobs, settingsKeys.channel(platform, channelId), ChannelSettingsSchema, { ifCorrupt: 'absent' })) ?? { v: 1, defaults: {} };
}

export async function readEffectiveSettings(blobs: BlobStore, platform: Platform, userId: string, channelId: string): Promise<EffectiveSettings> {
  const [user, channel] = await Promise.all([readUserSettings(blobs, platform, userId), readChannelSettings(blobs, platform, channelId)]);
  return { user, channel, defaults: { ...channel.defaults, ...user.defaults }, buttons: channel.buttons ?? DEFAULT_BUTTON_POLICY };
}

export async function writeUserSettings(blobs: BlobStore, platform: Platform, userId: string, settings: UserSettings): Promise<void> {
  await writeRecord(blobs, settingsKeys.user(platform, userId), UserSettingsSchema, settings);
}

export async function writeChannelSettings(blobs: BlobStore, platform: Platform, channelId: string, settings: ChannelSettings): Promise<void> {
  await writeRecord(blobs, settingsKeys.channel(platform, channelId), ChannelSettingsSchema, settings);
}
