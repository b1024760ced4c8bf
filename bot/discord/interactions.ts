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
import { ComponentType, InteractionResponseType, InteractionType, TextInputStyle, type APIInteractionResponse } from 'discord-api-types/v10';
import { OptionsError } from '../../core/errors.js';
import { parseImagine, type SlashOptions } from '../../core/options.js';
import type { CommandContext, Rejected } from '../commands/context.js';
import { rejected } from '../commands/enqueue.js';
import type { SettingsInput } from '../commands/index.js';
import { checkPlace, moderatePrompt } from '../moderation.js';
import { ButtonIdError, decodeButtonId, type ButtonId } from '../custom-id.js';
import { autocompleteChoices, isCommandName } from './commands.js';
import {
  commandContextOf,
  focusedOption,
  InteractionPayloadSchema,
  optionValues,
  modalValue,
  type CommandInteraction,
  type ComponentInteraction,
  type ModalInteraction,
} from './interaction-payload.js';
import { renderDiscordMessage } from './render.js';
import { InteractionWebhook, renderActorReply } from './replies.js';
import {
  asActorReply,
  deferPrivate,
  deferPublic,
  deferred,
  deferUpdate,
  ephemeral,
  publicOutcome,
  type InteractionRouterDeps,
  type RouteResult,
} from './acks.js';
/** Buttons whose result is a new public message (the child job's). */
const PUBLIC_BUTTONS = new Set(['upscale', 'vary_subtle', 'vary_strong', 'reroll']);
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
  const options = optionValues(interaction.data.options);
  const webhook = new InteractionWebhook(deps.rest, interaction.application_id, interaction.token);
  const target = { id: interaction.id, token: interaction.token };
  const text = (key: string) => {
    const value = options.get(key);
    return value === undefined ? undefined : String(value);
  };

  switch (name) {
    case 'imagine': {
      const prompt = text('prompt') ?? '';
      const slash = slashOptionsOf(options);
      const refusal = precheckImagine(deps, ctx, prompt, slash);
      if (refusal) return { ok: true, response: ephemeral(refusal.message) };
      return deferred(deferPublic, deps, webhook, target, 'imagine', () => deps.handlers.imagine(ctx, prompt, slash), (reply) => publicOutcome(webhook, reply));
    }
    case 'show': {
      const jobId = text('job') ?? '';
      return deferred(deferPublic, deps, webhook, target, 'show', () => deps.handlers.show(ctx, jobId), async (reply) => {
        if (reply.kind === 'rejected') return webhook.replacePublicWithPrivate(renderActorReply(reply));
        const body = renderDiscordMessage(reply.message, reply.attachment ? { attachmentName: reply.attachment.fileName, channelId: ctx.requester.channelId } : {});
        await webhook.editOriginal(body, reply.attachment);
      });
    }
    case 'info':
      return deferred(deferPrivate, deps, webhook, target, 'info', () => deps.handlers.info(ctx), (reply) => webhook.editOriginal(renderActorReply(reply)));
    case 'cancel': {
      const jobId = text('job');
      return deferred(deferPrivate, deps, webhook, target, 'cancel', () => deps.handlers.cancel(ctx, jobId), (reply) => webhook.editOriginal(renderActorReply(reply)));
    }
    case 'settings': {
      const input: SettingsInput = {
        scope: text('scope') === 'channel' ? 'channel' : 'user',
        ...(text('defaults') !== undefined ? { options: text('defaults') } : {}),
        ...(text('buttons') === 'everyone' || text('buttons') === 'requester' ? { buttons: text('buttons') as 'everyone' | 'requester' } : {}),
        ...(options.get('reset') === true ? { reset: true } : {}),
      };
      return deferred(deferPrivate, deps, webhook, target, 'settings', () => deps.handlers.settings(ctx, input), (reply) => webhook.editOriginal(renderActorReply(reply)));
    }
  }
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
  const target = { id: interaction.id, token: interaction.token };
  const press = () => deps.handlers.pressButton(ctx, interaction.data.custom_id);

  if (button.action === 'remix') return { ok: true, response: remixModal(interaction.data.custom_id, button.index) };
  if (PUBLIC_BUTTONS.has(button.action)) {
    return deferred(deferPublic, deps, webhook, target, button.action, press, (reply) => publicOutcome(webhook, reply));
  }
  if (button.action === 'info') {
    return deferred(deferPrivate, deps, webhook, target, 'info', press, (reply) => webhook.editOriginal(renderActorReply(asActorReply(reply))));
  }
  // delete / cancel: nothing new to show in the channel; the actor gets a private confirmation.
  return deferred(deferUpdate, deps, webhook, target, button.action, press, async (reply) => {
    if (reply.kind === 'done' && reply.action === 'deleted') await webhook.deleteOriginal();
    await webhook.followUp(renderActorReply(asActorReply(reply)), true);
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
  const target = { id: interaction.id, token: interaction.token };
  return deferred(deferPublic, deps, webhook, target, 'remix', () => deps.handlers.pressButton(ctx, interaction.data.custom_id, text), (reply) => publicOutcome(webhook, reply));
}

/** The checks of /imagine that need no I/O, so bad input is refused at once and never deferred. */
function precheckImagine(deps: InteractionRouterDeps, ctx: CommandContext, prompt: string, slash: SlashOptions): Rejected | undefined {
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

function slashOptionsOf(options: Map<string, string | number | boolean>): SlashOptions {
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

