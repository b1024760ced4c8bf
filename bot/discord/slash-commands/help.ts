/** `/help`: the commands, options and buttons (the shared answer every platform gives), answered privately. */
import { ApplicationCommandType } from 'discord-api-types/v10';
import { help } from '../../commands/index.ts';
import type { InfoReply } from '../../commands/context.ts';
import { deferPrivate, deferred } from '../acks.ts';
import { renderActorReply } from '../replies.ts';
import { WHERE, type DiscordSlashCommand } from '../slash-command.ts';

export const helpCommand = {
  definition: { ...WHERE, type: ApplicationCommandType.ChatInput, name: 'help', description: 'The commands, options and buttons' },
  bind: () => (): Promise<InfoReply> => Promise.resolve(help()),
  execute(call) {
    return deferred(call, { ack: deferPrivate, command: 'help', run: () => call.run(), show: (reply) => call.webhook.editOriginal(renderActorReply(reply)) });
  },
} satisfies DiscordSlashCommand<() => Promise<InfoReply>>;
