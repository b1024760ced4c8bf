/** `/imagine prompt [ar style no seed chaos steps cfg size lite]`: four images; the deferral becomes the job's message. */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { OptionsError } from '../../../core/errors.js';
import { parseImagine, type SlashOptions } from '../../../core/options.js';
import { imagine } from '../../commands/index.js';
import type { CommandContext, ImagineReply, Rejected } from '../../commands/context.js';
import { rejected } from '../../commands/enqueue.js';
import { checkPlace, moderatePrompt } from '../../moderation.js';
import { deferPublic, deferred, ephemeral, publicOutcome, type InteractionRouterDeps } from '../acks.js';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.js';

export const imagineCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Make four images from a prompt (inline --ar, --seed, --no … work too)',
    options: [
      { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to draw; may end with --options', required: true, max_length: 2000 },
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
  bind: (bot) => (ctx: CommandContext, text: string, slash: SlashOptions): Promise<ImagineReply> => imagine(bot, ctx, text, slash),
  execute(call) {
    const prompt = optionText(call.options, 'prompt') ?? '';
    const slash = slashOptionsOf(call.options);
    const refusal = precheckImagine(call.deps, call.ctx, prompt, slash);
    if (refusal) return { ok: true, response: ephemeral(refusal.message) };
    return deferred(call, { ack: deferPublic, command: 'imagine', run: () => call.run(call.ctx, prompt, slash), show: (reply) => publicOutcome(call.webhook, reply) });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, text: string, slash: SlashOptions) => Promise<ImagineReply>>;

/** The checks of /imagine that need no I/O, so bad input is refused at once and never deferred (the Remix dialog's too). */
export function precheckImagine(deps: InteractionRouterDeps, ctx: CommandContext, prompt: string, slash: SlashOptions): Rejected | undefined {
  try {
    const place = checkPlace(deps.moderation, ctx.requester);
    if (!place.allowed) return rejected(place.code, place.message);
    const request = parseImagine(prompt, slash, { randomSeed: () => 0 });
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
  for (const key of ['seed', 'steps', 'cfg', 'chaos'] as const) {
    const value = options.get(key);
    if (typeof value === 'number' || typeof value === 'string') slash[key] = value;
  }
  if (options.get('lite') === true) slash.lite = true;
  return slash;
}
