/**
 * `/imagine prompt [ar style no seed chaos steps cfg size lite iw strength image image2 image3]`: four images; the
 * deferral becomes the job's message. Attached pictures are image prompts (weighted by `iw`); with `strength` the first
 * is the start image instead (image-to-image). With a picture the prompt may be empty.
 */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { OptionsError } from '../../../core/errors.ts';
import { parseImagine, type SlashOptions } from '../../../core/options.ts';
import { imagine } from '../../commands/index.ts';
import type { CommandContext, ImagineReply, Rejected } from '../../commands/context.ts';
import { rejected } from '../../commands/enqueue.ts';
import { checkPlace, moderatePrompt } from '../../moderation.ts';
import { deferPublic, deferred, ephemeral, publicOutcome, type InteractionRouterDeps } from '../acks.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';
import type { DiscordAttachment } from '../interaction-payload.ts';
import { DISCORD_CDN, fetchPlatformFile, UPLOAD_LIMITS, UploadError } from '../../uploads.ts';

/** The attachment options of /imagine, in order. */
const IMAGE_OPTIONS = ['image', 'image2', 'image3'] as const;

export const imagineCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Make four images from a prompt (inline --ar, --seed, --no … work too)',
    options: [
      { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to draw; may end with --options (optional with an image)', max_length: 2000 },
      ...IMAGE_OPTIONS.map((name, i) => ({ type: ApplicationCommandOptionType.Attachment as const, name, description: i === 0 ? 'A picture to use as an image prompt' : 'Another picture' })),
      { type: ApplicationCommandOptionType.Number, name: 'iw', description: 'Image weight of the pictures (0–3, default 1)', min_value: 0, max_value: 3 },
      { type: ApplicationCommandOptionType.Number, name: 'strength', description: 'Start from the first picture (image-to-image): 0.3 stays close, 1 redraws it', min_value: 0.01, max_value: 1 },
      { type: ApplicationCommandOptionType.String, name: 'ar', description: 'Aspect ratio, e.g. 16:9', autocomplete: true, max_length: 7 },
      { type: ApplicationCommandOptionType.String, name: 'style', description: 'Style preset', autocomplete: true, max_length: 32 },
      { type: ApplicationCommandOptionType.String, name: 'no', description: 'Things to leave out (negative prompt)', max_length: 2000 },
      { type: ApplicationCommandOptionType.Integer, name: 'seed', description: 'Seed for reproducible results', min_value: 0, max_value: 0xffffffff },
      { type: ApplicationCommandOptionType.Integer, name: 'chaos', description: 'How different the four images are (0–100)', min_value: 0, max_value: 100 },
      { type: ApplicationCommandOptionType.Integer, name: 'steps', description: 'Stage C denoising steps (1–100)', min_value: 1, max_value: 100 },
      { type: ApplicationCommandOptionType.Number, name: 'cfg', description: 'Prompt guidance (0–30)', min_value: 0, max_value: 30 },
      {
        type: ApplicationCommandOptionType.String,
        name: 'size',
        description: 'Image size',
        choices: [
          { name: 'small', value: 'small' },
          { name: 'medium', value: 'medium' },
          { name: 'large', value: 'large' },
        ],
      },
      { type: ApplicationCommandOptionType.Boolean, name: 'lite', description: 'Faster, lighter model variant' },
    ],
  },
  bind: (bot) => (ctx: CommandContext, text: string, slash: SlashOptions, pictures: readonly Uint8Array[] = []): Promise<ImagineReply> => imagine(bot, ctx, text, slash, undefined, pictures),
  execute(call) {
    const prompt = optionText(call.options, 'prompt') ?? '';
    const slash = slashOptionsOf(call.options);
    const files = IMAGE_OPTIONS.flatMap((name) => call.attachments.get(name) ?? []);
    const refusal = precheckImagine(call.deps, call.ctx, prompt, slash, files.length) ?? precheckAttachments(files);
    if (refusal) return { ok: true, response: ephemeral(refusal.message) };
    return deferred(call, {
      ack: deferPublic,
      command: 'imagine',
      run: async () => {
        const pictures = await downloadAttachments(call.deps, files);
        return 'kind' in pictures ? pictures : call.run(call.ctx, prompt, slash, pictures);
      },
      show: (reply) => publicOutcome(call.webhook, reply),
    });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, text: string, slash: SlashOptions, pictures?: readonly Uint8Array[]) => Promise<ImagineReply>>;

/** Sizes Discord states for the attachments, checked on the ack path (the download checks them again). */
export function precheckAttachments(files: readonly DiscordAttachment[]): Rejected | undefined {
  const big = files.find((file) => file.size > UPLOAD_LIMITS.maxBytes);
  return big ? rejected('bad_upload', `An attached file is ${(big.size / 1048576).toFixed(1)} MiB; pictures up to ${UPLOAD_LIMITS.maxBytes / 1048576} MiB are used.`) : undefined;
}

/** The attachments' bytes from Discord's CDN (only there: bot/uploads.ts), or the refusal naming what failed. */
export async function downloadAttachments(deps: InteractionRouterDeps, files: readonly DiscordAttachment[]): Promise<Uint8Array[] | Rejected> {
  try {
    const out: Uint8Array[] = [];
    for (const file of files) out.push(await fetchPlatformFile(file.url, deps.files ?? DISCORD_CDN));
    return out;
  } catch (error) {
    if (error instanceof UploadError) return rejected(error.code, error.message);
    throw error;
  }
}

/** The checks of /imagine that need no I/O, so bad input is refused at once and never deferred (the Remix dialog's too). */
export function precheckImagine(deps: InteractionRouterDeps, ctx: CommandContext, prompt: string, slash: SlashOptions, imageCount = 0): Rejected | undefined {
  try {
    const place = checkPlace(deps.moderation, ctx.requester);
    if (!place.allowed) return rejected(place.code, place.message);
    const request = parseImagine(prompt, slash, { randomSeed: () => 0, imageCount });
    const verdict = moderatePrompt(deps.moderation, request.prompt, ctx.channel);
    return verdict.allowed ? undefined : rejected(verdict.code, verdict.message);
  } catch (error) {
    if (error instanceof OptionsError) return rejected('invalid_options', error.message);
    throw error;
  }
}

function slashOptionsOf(options: ReadonlyMap<string, string | number | boolean>): SlashOptions {
  const slash: SlashOptions = {};
  for (const key of ['ar', 'no', 'style', 'size'] as const) {
    const value = options.get(key);
    if (value !== undefined) slash[key] = String(value);
  }
  for (const key of ['seed', 'steps', 'cfg', 'chaos', 'iw', 'strength'] as const) {
    const value = options.get(key);
    if (typeof value === 'number' || typeof value === 'string') slash[key] = value;
  }
  if (options.get('lite') === true) slash.lite = true;
  return slash;
}
