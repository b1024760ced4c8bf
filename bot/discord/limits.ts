/**
 * Discord's message limits as zod predicates, checked on every message the renderer emits
 * (the pattern of @discordjs/builders' Assertions.ts). Numbers from discord-api-docs @ c98d64bc,
 * collected in shared/docs/chat-platforms.md §5.1. A message that breaks one is a bug in our
 * renderer: it fails here with the path and the limit instead of as a 400 from Discord later.
 */
import { z } from 'zod';
import { CodedError } from '../../core/errors.ts';

export const DISCORD_LIMITS = Object.freeze({
  contentChars: 2000,
  embeds: 10,
  embedTotalChars: 6000,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  actionRows: 5,
  buttonsPerRow: 5,
  customIdChars: 100,
  buttonLabel: 80,
  selectOptions: 25,
  selectOptionText: 100,
  selectPlaceholder: 150,
  attachments: 10,
  /** Default upload limit per file when the interaction does not tell us `attachment_size_limit`. */
  defaultAttachmentBytes: 10 * 1024 * 1024,
});

const L = DISCORD_LIMITS;
const customId = z.string().min(1).max(L.customIdChars);

const ButtonSchema = z.strictObject({
  type: z.literal(2),
  style: z.number().int().min(1).max(5),
  label: z.string().min(1).max(L.buttonLabel).optional(),
  emoji: z.strictObject({ name: z.string().min(1) }).optional(),
  custom_id: customId.optional(),
  url: z.string().max(512).optional(),
  disabled: z.boolean().optional(),
}).refine((b) => (b.style === 5) === (b.url !== undefined) && (b.style === 5) !== (b.custom_id !== undefined), {
  message: 'a link button (style 5) has a url and no custom_id; every other button has a custom_id',
}).refine((b) => b.label !== undefined || b.emoji !== undefined, { message: 'a button needs a label or an emoji' });

const SelectOptionSchema = z.strictObject({
  label: z.string().min(1).max(L.selectOptionText),
  value: z.string().min(1).max(L.selectOptionText),
  description: z.string().max(L.selectOptionText).optional(),
  emoji: z.strictObject({ name: z.string().min(1) }).optional(),
});

const StringSelectSchema = z.strictObject({
  type: z.literal(3),
  custom_id: customId,
  placeholder: z.string().max(L.selectPlaceholder).optional(),
  options: z.array(SelectOptionSchema).min(1).max(L.selectOptions),
  min_values: z.number().int().min(0).max(25).optional(),
  max_values: z.number().int().min(1).max(25).optional(),
});

const ActionRowSchema = z.union([
  z.strictObject({ type: z.literal(1), components: z.array(ButtonSchema).min(1).max(L.buttonsPerRow) }),
  z.strictObject({ type: z.literal(1), components: z.tuple([StringSelectSchema]) }),
]);

const EmbedSchema = z.strictObject({
  title: z.string().max(L.embedTitle).optional(),
  description: z.string().max(L.embedDescription).optional(),
  url: z.string().optional(),
  color: z.number().int().min(0).max(0xffffff).optional(),
  fields: z.array(z.strictObject({ name: z.string().min(1).max(L.embedFieldName), value: z.string().min(1).max(L.embedFieldValue), inline: z.boolean().optional() })).max(L.embedFields).optional(),
  footer: z.strictObject({ text: z.string().min(1).max(L.embedFooter) }).optional(),
  image: z.strictObject({ url: z.string().min(1) }).optional(),
  thumbnail: z.strictObject({ url: z.string().min(1) }).optional(),
  timestamp: z.string().optional(),
});

const AttachmentRefSchema = z.strictObject({
  id: z.union([z.number().int().nonnegative(), z.string().min(1)]),
  filename: z.string().min(1).max(1024).optional(),
  description: z.string().max(1024).optional(),
});

export const DiscordMessageSchema = z
  .strictObject({
    content: z.string().max(L.contentChars).optional(),
    embeds: z.array(EmbedSchema).max(L.embeds).optional(),
    components: z.array(ActionRowSchema).max(L.actionRows).optional(),
    attachments: z.array(AttachmentRefSchema).max(L.attachments).optional(),
    allowed_mentions: z.strictObject({ parse: z.array(z.enum(['users', 'roles', 'everyone'])), users: z.array(z.string()).optional() }).optional(),
    flags: z.number().int().optional(),
    message_reference: z.strictObject({ message_id: z.string().min(1), fail_if_not_exists: z.boolean().optional() }).optional(),
  })
  .refine((message) => embedChars(message.embeds ?? []) <= L.embedTotalChars, { message: `embeds hold more than ${L.embedTotalChars} characters in total` })
  .refine((message) => uniqueCustomIds(message.components ?? []), { message: 'custom_id values must be unique within a message' });

export type DiscordMessage = z.infer<typeof DiscordMessageSchema>;

/** Thrown when the renderer produced something Discord would refuse; says where and which limit. */
export class DiscordLimitError extends CodedError<'invalid_discord_message'> {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('invalid_discord_message', `Discord message breaks a platform limit:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

/** Validates a message body; returns it unchanged or throws DiscordLimitError. */
export function assertDiscordMessage(message: unknown): DiscordMessage {
  const parsed = DiscordMessageSchema.safeParse(message);
  if (parsed.success) return parsed.data;
  throw new DiscordLimitError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`));
}

function embedChars(embeds: ReadonlyArray<z.infer<typeof EmbedSchema>>): number {
  let total = 0;
  for (const embed of embeds) {
    total += (embed.title?.length ?? 0) + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0);
    for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  }
  return total;
}

function uniqueCustomIds(rows: ReadonlyArray<{ components: ReadonlyArray<{ custom_id?: string | undefined }> }>): boolean {
  const ids = rows.flatMap((row) => row.components.map((component) => component.custom_id).filter((id) => id !== undefined));
  return new Set(ids).size === ids.length;
}
