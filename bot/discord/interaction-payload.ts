/**
 * The part of a Discord interaction payload we read, validated with zod (loose objects: Discord adds
 * fields over time), and its translation into the platform-neutral `CommandContext`. The gateway
 * (INTERACTION_CREATE) and the HTTP endpoint deliver the same JSON, so both go through here.
 */
import { z } from 'zod';
import { InteractionType, PermissionFlagsBits } from 'discord-api-types/v10';
import type { CommandContext } from '../commands/context.ts';

const snowflake = z.string().regex(/^\d{1,25}$/, 'a snowflake id');

interface OptionNode {
  name: string;
  type: number;
  value?: string | number | boolean | undefined;
  focused?: boolean | undefined;
  options?: OptionNode[] | undefined;
}

const OptionSchema: z.ZodType<OptionNode> = z.lazy(() =>
  z.looseObject({
    name: z.string().min(1).max(32),
    type: z.number().int(),
    value: z.union([z.string().max(6000), z.number(), z.boolean()]).optional(),
    focused: z.boolean().optional(),
    options: z.array(OptionSchema).max(25).optional(),
  }),
);

const UserSchema = z.looseObject({ id: snowflake });

/** An attachment option's file as Discord resolves it (the option's value is its id). The URL is checked before use. */
const AttachmentSchema = z.looseObject({ id: snowflake, url: z.string().max(2048), size: z.number().int().nonnegative(), content_type: z.string().max(255).optional() });
const ResolvedSchema = z.looseObject({ attachments: z.record(snowflake, AttachmentSchema).optional() });
export type DiscordAttachment = z.infer<typeof AttachmentSchema>;

/**
 * Attachment options by option name, in the order given (`image`, `image2`, …): an id that names no resolved
 * attachment is left out (a forged payload gets no file, not an error).
 */
export function attachmentOptions(options: readonly OptionNode[] | undefined, resolved: z.infer<typeof ResolvedSchema> | undefined): Map<string, DiscordAttachment> {
  const out = new Map<string, DiscordAttachment>();
  for (const option of options ?? []) {
    const file = option.type === 11 && typeof option.value === 'string' ? resolved?.attachments?.[option.value] : undefined;
    if (file) out.set(option.name, file);
    // A subcommand's own options (/board add image:…).
    for (const [name, nested] of attachmentOptions(option.options, resolved)) out.set(name, nested);
  }
  return out;
}

const BaseSchema = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(512),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  channel: z.looseObject({ id: snowflake, nsfw: z.boolean().optional() }).optional(),
  member: z.looseObject({ user: UserSchema, permissions: z.string().regex(/^\d+$/).optional() }).optional(),
  user: UserSchema.optional(),
  attachment_size_limit: z.number().int().positive().optional(),
};

export const InteractionPayloadSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal(InteractionType.Ping), id: snowflake, application_id: snowflake }),
  z.looseObject({
    ...BaseSchema,
    type: z.literal(InteractionType.ApplicationCommand),
    data: z.looseObject({ name: z.string().min(1).max(32), options: z.array(OptionSchema).max(25).optional(), resolved: ResolvedSchema.optional() }),
  }),
  z.looseObject({ ...BaseSchema, type: z.literal(InteractionType.ApplicationCommandAutocomplete), data: z.looseObject({ name: z.string().min(1).max(32), options: z.array(OptionSchema).max(25).optional() }) }),
  z.looseObject({
    ...BaseSchema,
    type: z.literal(InteractionType.MessageComponent),
    data: z.looseObject({ custom_id: z.string().max(200), component_type: z.number().int(), values: z.array(z.string().max(100)).max(25).optional() }),
    message: z.looseObject({ id: snowflake }),
  }),
  z.looseObject({
    ...BaseSchema,
    type: z.literal(InteractionType.ModalSubmit),
    data: z.looseObject({
      custom_id: z.string().max(200),
      components: z.array(z.looseObject({ components: z.array(z.looseObject({ custom_id: z.string().max(100), value: z.string().max(4000).optional() })).max(5).optional() })).max(5).optional(),
    }),
    message: z.looseObject({ id: snowflake }).optional(),
  }),
]);

export type InteractionPayload = z.infer<typeof InteractionPayloadSchema>;
export type UserInteraction = Exclude<InteractionPayload, { type: InteractionType.Ping }>;
export type CommandInteraction = Extract<InteractionPayload, { type: InteractionType.ApplicationCommand }>;
export type AutocompleteInteraction = Extract<InteractionPayload, { type: InteractionType.ApplicationCommandAutocomplete }>;
export type ComponentInteraction = Extract<InteractionPayload, { type: InteractionType.MessageComponent }>;
export type ModalInteraction = Extract<InteractionPayload, { type: InteractionType.ModalSubmit }>;

/** The value of one text input of a submitted modal. */
export function modalValue(interaction: ModalInteraction, customId: string): string | undefined {
  for (const row of interaction.data.components ?? []) {
    for (const input of row.components ?? []) if (input.custom_id === customId) return input.value;
  }
  return undefined;
}

/** Discord's epoch: snowflakes carry their creation time in ms since 2015-01-01. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/** When Discord created the interaction (and so its token), from the snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
}

/** Who acted (member in guilds, user in DMs); undefined only in a payload Discord would not send. */
export function actorId(interaction: UserInteraction): string | undefined {
  return interaction.member?.user.id ?? interaction.user?.id;
}

export interface ContextExtras {
  /** The message to reply to and link from (the parent's message, for button presses). */
  replyToMessageId?: string;
}

/** The neutral context of one interaction; null when it lacks a user or channel (nothing to act for). */
export function commandContextOf(interaction: UserInteraction, extras: ContextExtras = {}): CommandContext | null {
  const userId = actorId(interaction);
  const channelId = interaction.channel?.id ?? interaction.channel_id;
  if (!userId || !channelId) return null;
  const permissions = interaction.member?.permissions;
  // In DMs there is no member and nobody else to protect the channel from.
  const canManageChannel = permissions === undefined ? interaction.guild_id === undefined : (BigInt(permissions) & PermissionFlagsBits.ManageChannels) !== 0n;
  return {
    requester: { platform: 'discord', userId, channelId, ...(interaction.guild_id ? { workspaceId: interaction.guild_id } : {}) },
    delivery: {
      platform: 'discord',
      applicationId: interaction.application_id,
      interactionToken: interaction.token,
      tokenIssuedAt: snowflakeTime(interaction.id),
      channelId,
      ...(extras.replyToMessageId ? { replyToMessageId: extras.replyToMessageId } : {}),
      ...(interaction.guild_id ? { guildId: interaction.guild_id } : {}),
      ...(interaction.attachment_size_limit ? { attachmentLimitBytes: interaction.attachment_size_limit } : {}),
    },
    sourceId: `discord:${interaction.id}`,
    channel: { ageRestricted: interaction.channel?.nsfw === true },
    canManageChannel,
  };
}

/** Top-level and sub-command options flattened to name → value; the subcommand's own name under `subcommand`. */
export function optionValues(options: readonly OptionNode[] | undefined): Map<string, string | number | boolean> {
  const values = new Map<string, string | number | boolean>();
  for (const option of options ?? []) {
    if (option.value !== undefined) values.set(option.name, option.value);
    // A subcommand (type 1) carries no value: its name is what the command dispatches on (/board start …).
    if (option.type === 1) values.set('subcommand', option.name);
    for (const [name, value] of optionValues(option.options)) values.set(name, value);
  }
  return values;
}

export function focusedOption(options: readonly OptionNode[] | undefined): { name: string; value: string } | undefined {
  for (const option of options ?? []) {
    if (option.focused) return { name: option.name, value: String(option.value ?? '') };
    const nested = focusedOption(option.options);
    if (nested) return nested;
  }
  return undefined;
}
