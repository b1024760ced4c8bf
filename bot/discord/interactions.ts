/**
 * The one translation layer from a Discord interaction payload to the bot-core commands, shared by
 * the gateway client and the HTTP endpoint. `routeInteraction` is synchronous and does no I/O: it
 * answers within the 3-second window with PONG, autocomplete choices, an ephemeral refusal for
 * input that is wrong on its face (options, blocked prompt, tampered button id), or a deferral
 * (type 5 / type 6). Everything that touches S3 or SQS runs in `afterAck`, which the transport
 * starts only once Discord has the acknowledgement.
 *
 * Which ack for what:
 *   /imagine, /show, U/V/🔄   → 5, public "thinking…" that becomes the job's own message
 *   /info, /settings, /cancel, ℹ️ → 5 ephemeral, then the answer for the actor alone
 *   🗑️ and ❌                → 6 (no new message), then the parent message is deleted or updated
 *   Remix                    → 9, a dialog for the new prompt; its submit → 5 like U/V
 * A refusal found after a public deferral replaces the placeholder with a private message.
 */
import { renderPinCard } from './board-render.ts';
import { ComponentType, InteractionResponseType, InteractionType, TextInputStyle, type APIInteractionResponse } from 'discord-api-types/v10';
import { checkPlace } from '../moderation.ts';
import { ButtonIdError, decodeButtonId, type ButtonId } from '../custom-id.ts';
import { autocompleteChoices, isCommandName, SLASH_COMMANDS, type CommandName } from './commands.ts';
import type { DiscordCommandHandlers } from './command-handlers.ts';
import type { DiscordSlashCommand, SlashCommandCall } from './slash-command.ts';
import { precheckImagine } from './slash-commands/imagine.ts';
import {
  commandContextOf,
  focusedOption,
  InteractionPayloadSchema,
  optionValues,
  attachmentOptions,
  modalValue,
  type CommandInteraction,
  type ComponentInteraction,
  type ModalInteraction,
} from './interaction-payload.ts';
import { InteractionWebhook, renderActorReply } from './replies.ts';
import {
  asActorReply,
  deferPrivate,
  deferPublic,
  deferred,
  deferUpdate,
  ephemeral,
  publicOutcome,
  type InteractionRouterDeps,
  type InteractionTarget,
  type RouteResult,
} from './acks.ts';
/** Buttons whose result is a new public message (the child job's). */
const PUBLIC_BUTTONS = new Set(['upscale', 'vary_subtle', 'vary_strong', 'reroll', 'more']);
const REMIX_INPUT = 'prompt';

export function routeInteraction(payload: unknown, deps: InteractionRouterDeps): RouteResult {
  const parsed = InteractionPayloadSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, status: 400, error: 'not an interaction this app understands' };
  const interaction = parsed.data;
  switch (interaction.type) {
    case InteractionType.Ping:
      return { ok: true, response: { type: InteractionResponseType.Pong } };
    case InteractionType.ApplicationCommandAutocomplete: {
      const focused = focusedOption(interaction.data.options);
      const choices = focused ? autocompleteChoices(focused.name, focused.value) : [];
      return { ok: true, response: { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices } } };
    }
    case InteractionType.ApplicationCommand:
      return routeCommand(interaction, deps);
    case InteractionType.MessageComponent:
      return routeComponent(interaction, deps);
    case InteractionType.ModalSubmit:
      return routeModal(interaction, deps);
  }
}

function routeCommand(interaction: CommandInteraction, deps: InteractionRouterDeps): RouteResult {
  const ctx = commandContextOf(interaction);
  if (!ctx) return { ok: false, status: 400, error: 'interaction without a user or channel' };
  const name = interaction.data.name;
  if (!isCommandName(name)) return { ok: true, response: ephemeral(`/${name} is not a command of this bot any more.`) };
  const webhook = new InteractionWebhook(deps.rest, interaction.application_id, interaction.token);
  return executeSlashCommand(name, { deps, webhook, interaction: { id: interaction.id, token: interaction.token }, ctx, options: optionValues(interaction.data.options), attachments: attachmentOptions(interaction.data.options, interaction.data.resolved) });
}

/** The named command with its own bound handler (the registry and the handlers are keyed alike; TypeScript cannot follow that through a union of names). */
function executeSlashCommand<Name extends CommandName>(name: Name, call: Omit<SlashCommandCall<unknown>, 'run'>): RouteResult {
  const command = SLASH_COMMANDS[name] as unknown as DiscordSlashCommand<DiscordCommandHandlers[Name]>;
  return command.execute({ ...call, run: call.deps.handlers[name] });
}

/** A custom id sent back by a client, decoded, or the ephemeral refusal for a tampered one. */
function decodeOrRefuse(customId: string): { button: ButtonId } | { refusal: RouteResult } {
  try {
    return { button: decodeButtonId(customId) };
  } catch (error) {
    if (error instanceof ButtonIdError) return { refusal: { ok: true, response: ephemeral(error.message) } };
    throw error;
  }
}

function routeComponent(interaction: ComponentInteraction, deps: InteractionRouterDeps): RouteResult {
  const decoded = decodeOrRefuse(interaction.data.custom_id);
  if ('refusal' in decoded) return decoded.refusal;
  const { button } = decoded;
  const ctx = commandContextOf(interaction, { replyToMessageId: interaction.message.id });
  if (!ctx) return { ok: false, status: 400, error: 'interaction without a user or channel' };
  const place = checkPlace(deps.moderation, ctx.requester);
  if (!place.allowed) return { ok: true, response: ephemeral(place.message) };
  const webhook = new InteractionWebhook(deps.rest, interaction.application_id, interaction.token);
  const target: InteractionTarget = { deps, webhook, interaction: { id: interaction.id, token: interaction.token } };
  const run = () => deps.handlers.pressButton(ctx, interaction.data.custom_id);

  if (button.action === 'remix') return { ok: true, response: remixModal(interaction.data.custom_id, button.index) };
  if (PUBLIC_BUTTONS.has(button.action)) {
    return deferred(target, { ack: deferPublic, command: button.action, run, show: (reply) => publicOutcome(webhook, reply) });
  }
  if (button.action === 'info') {
    return deferred(target, { ack: deferPrivate, command: 'info', run, show: (reply) => webhook.editOriginal(renderActorReply(asActorReply(reply))) });
  }
  // delete / cancel / board actions: nothing new to show in the channel (but a pin); the actor gets a private confirmation.
  return deferred(target, {
    ack: deferUpdate,
    command: button.action,
    run,
    show: async (reply) => {
      if (reply.kind === 'done' && reply.action === 'deleted') await webhook.deleteOriginal();
      // A new pin is shown to the whole thread, with 👍 ⭐ and unpin under it: that is where the team votes.
      if (reply.kind === 'done' && reply.action === 'pinned' && button.action === 'pin') {
        return webhook.followUp(renderPinCard(button.jobId, button.index, reply.message, ctx.requester.userId), false);
      }
      await webhook.followUp(renderActorReply(asActorReply(reply)), true);
    },
  });
}

/**
 * Remix opens a dialog for the new prompt. It starts empty: filling in the old prompt would need an S3
 * read on the ack path. The modal's custom id is the button's, so the submit names the same job and tile.
 */
function remixModal(customId: string, index: number): APIInteractionResponse {
  return {
    type: InteractionResponseType.Modal,
    data: {
      custom_id: customId,
      title: `Remix image ${index}`,
      components: [
        {
          type: ComponentType.ActionRow,
          components: [{ type: ComponentType.TextInput, custom_id: REMIX_INPUT, style: TextInputStyle.Paragraph, label: 'New prompt (--options allowed)', placeholder: 'a lighthouse at dawn --ar 16:9', required: true, max_length: 2000 }],
        },
      ],
    },
  };
}

function routeModal(interaction: ModalInteraction, deps: InteractionRouterDeps): RouteResult {
  const decoded = decodeOrRefuse(interaction.data.custom_id);
  if ('refusal' in decoded) return decoded.refusal;
  if (decoded.button.action !== 'remix') return { ok: true, response: ephemeral('This form is not supported any more. Use /imagine again.') };
  const text = modalValue(interaction, REMIX_INPUT)?.trim() ?? '';
  const ctx = commandContextOf(interaction, interaction.message ? { replyToMessageId: interaction.message.id } : {});
  if (!ctx) return { ok: false, status: 400, error: 'interaction without a user or channel' };
  const refusal = precheckImagine(deps, ctx, text, {});
  if (refusal) return { ok: true, response: ephemeral(refusal.message) };
  const webhook = new InteractionWebhook(deps.rest, interaction.application_id, interaction.token);
  return deferred(
    { deps, webhook, interaction: { id: interaction.id, token: interaction.token } },
    { ack: deferPublic, command: 'remix', run: () => deps.handlers.pressButton(ctx, interaction.data.custom_id, text), show: (reply) => publicOutcome(webhook, reply) },
  );
}
