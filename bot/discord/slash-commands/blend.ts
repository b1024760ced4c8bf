/** `/blend image1 image2 [image3 image4 image5] [shape]`: four images from 2–5 pictures alone (bot/commands/blend.ts). */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { blend, BLEND_SHAPES } from '../../commands/index.ts';
import type { CommandContext, ImagineReply } from '../../commands/context.ts';
import { checkPlace } from '../../moderation.ts';
import { deferPublic, deferred, ephemeral, publicOutcome } from '../acks.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';
import { downloadAttachments, precheckAttachments } from './imagine.ts';

const PICTURE_OPTIONS = ['image1', 'image2', 'image3', 'image4', 'image5'] as const;

export const blendCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'blend',
    description: 'Blend 2–5 pictures into four new images',
    options: [
      ...PICTURE_OPTIONS.map((name, i) => ({ type: ApplicationCommandOptionType.Attachment as const, name, description: `Picture ${i + 1}`, required: i < 2 })),
      {
        type: ApplicationCommandOptionType.String,
        name: 'shape',
        description: 'Shape of the images (default square)',
        choices: Object.keys(BLEND_SHAPES).map((shape) => ({ name: shape, value: shape })),
      },
    ],
  },
  bind: (bot) => (ctx: CommandContext, pictures: readonly Uint8Array[], shape: string): Promise<ImagineReply> => blend(bot, ctx, pictures, shape),
  execute(call) {
    const files = PICTURE_OPTIONS.flatMap((name) => call.attachments.get(name) ?? []);
    const shape = optionText(call.options, 'shape') ?? 'square';
    const place = checkPlace(call.deps.moderation, call.ctx.requester);
    if (!place.allowed) return { ok: true, response: ephemeral(place.message) };
    const refusal = files.length < 2 ? { message: '/blend needs at least 2 pictures (image1 and image2).' } : precheckAttachments(files);
    if (refusal) return { ok: true, response: ephemeral(refusal.message) };
    return deferred(call, {
      ack: deferPublic,
      command: 'blend',
      run: async () => {
        const pictures = await downloadAttachments(call.deps, files);
        return 'kind' in pictures ? pictures : call.run(call.ctx, pictures, shape);
      },
      show: (reply) => publicOutcome(call.webhook, reply),
    });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, pictures: readonly Uint8Array[], shape: string) => Promise<ImagineReply>>;
