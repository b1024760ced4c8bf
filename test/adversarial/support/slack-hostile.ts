/**
 * Signed-but-malformed Slack requests: the shapes a buggy client, a replay with edits or a hostile
 * holder of the signing secret could send. Shared by test/adversarial/slack-requests.test.ts and the
 * long run in bench/adversarial-chat.ts (which also mutates them at random).
 */
import { FORM, JSON_TYPE, interactionBody, slashCommandBody } from '../../slack/support/signed-requests.ts';

export interface HostileRequest {
  name: string;
  body: string;
  contentType: string;
}

let counter = 0;

/** A well-formed /imagine command's fields, each call with a fresh trigger id and user. */
export function slashCommandFields(text: string, command = '/imagine'): Record<string, string> {
  counter += 1;
  return {
    token: 'legacy-verification-token',
    team_id: 'T0001',
    channel_id: 'C0001',
    user_id: `UH${String(counter).padStart(6, '0')}`,
    command,
    text,
    response_url: `http://127.0.0.1:9/respond/${counter}`,
    trigger_id: `${counter}.1700000000.hostile`,
    api_app_id: 'A0001',
  };
}

function without(fields: Record<string, string>, ...names: string[]): Record<string, string> {
  const copy = { ...fields };
  for (const name of names) delete copy[name];
  return copy;
}

function mentionEnvelope(event: unknown, extra: Record<string, unknown> = {}): string {
  counter += 1;
  return JSON.stringify({ type: 'event_callback', team_id: 'T0001', api_app_id: 'A0001', event_id: `EvH${counter}`, event_time: 1700000000, event, ...extra });
}

const goodMention = () => ({ type: 'app_mention', user: 'U0777', channel: 'C0001', text: '<@UBOT> a fox', ts: `1700000100.${String(counter).padStart(6, '0')}`, event_ts: '1700000100.000200' });

const form = (name: string, body: string): HostileRequest => ({ name, body, contentType: FORM });
const json = (name: string, body: string): HostileRequest => ({ name, body, contentType: JSON_TYPE });
const interaction = (name: string, payload: unknown): HostileRequest => form(name, interactionBody(payload));

/** Every request here is signed correctly and must be answered 2xx/4xx with nothing enqueued. */
export function malformedSlackRequests(): HostileRequest[] {
  const buttonBase = { type: 'block_actions', trigger_id: '1.2.hostile', user: { id: 'U0777' }, team: { id: 'T0001' }, channel: { id: 'C0001' } };
  return [
    form('a slash command without response_url and without user_id', slashCommandBody(without(slashCommandFields('a cat'), 'response_url', 'user_id'))),
    form('a slash command without response_url and with an invalid channel', slashCommandBody({ ...without(slashCommandFields('a cat'), 'response_url'), channel_id: 'not a channel' })),
    form('a slash command with an empty response_url and no trigger_id', slashCommandBody({ ...without(slashCommandFields('a cat'), 'trigger_id'), response_url: '' })),
    form('a slash command whose response_url is not a URL and whose user_id is missing', slashCommandBody({ ...without(slashCommandFields('a cat'), 'user_id'), response_url: 'not a url' })),
    form('a slash command missing every field but command', slashCommandBody({ command: '/imagine' })),
    form('an unknown slash command', slashCommandBody(slashCommandFields('a cat', '/unknown'))),
    form('a slash command without a command field', slashCommandBody(without(slashCommandFields('a cat'), 'command'))),
    form('/imagine-settings without user_id', slashCommandBody(without(slashCommandFields('--ar 3:2', '/imagine-settings'), 'user_id'))),
    form('/imagine-info without response_url or user_id', slashCommandBody(without(slashCommandFields('', '/imagine-info'), 'user_id', 'response_url'))),
    form('an empty form body', ''),
    form('a form body with ssl_check and nothing else', 'ssl_check=1&token=x'),
    json('an app_mention without a user', mentionEnvelope({ ...goodMention(), user: undefined })),
    json('an app_mention whose text is a number', mentionEnvelope({ ...goodMention(), text: 42 })),
    json('an app_mention with a malformed ts', mentionEnvelope({ ...goodMention(), ts: 'yesterday' })),
    json('an app_mention without team_id', JSON.stringify({ type: 'event_callback', event_id: 'EvX', event: goodMention() })),
    json('an event_callback without an event', mentionEnvelope(undefined)),
    json('an event_callback whose event is null', mentionEnvelope(null)),
    json('an event_callback whose event is a string', mentionEnvelope('app_mention')),
    json('an event of a type we do not handle', mentionEnvelope({ type: 'reaction_added', user: 'U0777', reaction: 'fox' })),
    json('an event_callback whose event has no type', mentionEnvelope({ user: 'U0777', channel: 'C0001' })),
    json('a JSON body that is null', 'null'),
    json('a JSON body that is an array', '[]'),
    json('a JSON body that is a string', '"event_callback"'),
    json('a JSON body that is a number', '42'),
    json('a JSON body with an unknown type', JSON.stringify({ type: 'something_new' })),
    json('a JSON body that is not JSON', '{"type": "event_callback", '),
    interaction('payload=null', null),
    interaction('payload is a string', 'block_actions'),
    interaction('payload is an array', []),
    interaction('payload is an empty object', {}),
    form('payload that is not JSON', 'payload=%7Bnot-json'),
    interaction('a view_submission without a view', { type: 'view_submission', user: { id: 'U0777' }, team: { id: 'T0001' } }),
    interaction('a view_submission whose view is null', { type: 'view_submission', user: { id: 'U0777' }, view: null }),
    interaction('a remix view_submission with forged metadata', { type: 'view_submission', user: { id: 'U0777' }, view: { id: 'V1', callback_id: 'remix', private_metadata: '{"customId":"upscale:x:1","channelId":"C0001"}', state: { values: { prompt: { prompt: { value: 'x' } } } } } }),
    interaction('a remix view_submission without state', { type: 'view_submission', user: { id: 'U0777' }, view: { id: 'V2', callback_id: 'remix', private_metadata: '{}' } }),
    interaction('a view_submission of an unknown dialog', { type: 'view_submission', user: { id: 'U0777' }, view: { id: 'V3', callback_id: 'other', state: { values: {} } } }),
    interaction('a view_closed', { type: 'view_closed', user: { id: 'U0777' }, view: { id: 'V4', callback_id: 'remix' } }),
    interaction('a global shortcut', { type: 'shortcut', callback_id: 'imagine', trigger_id: '1.2.3', user: { id: 'U0777' }, team: { id: 'T0001' } }),
    interaction('a message shortcut', { type: 'message_action', callback_id: 'imagine', trigger_id: '1.2.3', user: { id: 'U0777' }, channel: { id: 'C0001' }, message: { ts: '1.2', text: 'x' } }),
    interaction('a shortcut without callback_id', { type: 'shortcut', user: { id: 'U0777' } }),
    interaction('block_actions without actions', buttonBase),
    interaction('block_actions with an empty actions list', { ...buttonBase, actions: [] }),
    interaction('block_actions whose action is null', { ...buttonBase, actions: [null] }),
    interaction('block_actions with a job-creating id of a job that does not exist', { ...buttonBase, actions: [{ action_id: 'upscale:00000000-0000-4000-8000-000000000000:1' }] }),
    interaction('block_actions with a malformed button id', { ...buttonBase, actions: [{ action_id: 'upscale:not-a-job:9' }] }),
    interaction('block_actions without a channel', { ...buttonBase, channel: undefined, actions: [{ action_id: 'upscale:x:1' }] }),
    interaction('block_actions without a user', { ...buttonBase, user: undefined, actions: [{ action_id: 'reroll:x:0' }] }),
    interaction('block_actions with an unknown action id', { ...buttonBase, actions: [{ action_id: 'something-else' }] }),
    interaction('a block_suggestion', { type: 'block_suggestion', action_id: 'x', value: 'a', user: { id: 'U0777' } }),
    interaction('an interactive_message (legacy attachments)', { type: 'interactive_message', callback_id: 'x', actions: [{ name: 'a' }] }),
    interaction('a dialog_submission (legacy dialogs)', { type: 'dialog_submission', callback_id: 'x', submission: {} }),
    { name: 'a JSON body sent as text/plain', body: mentionEnvelope({ ...goodMention(), user: undefined }), contentType: 'text/plain' },
    { name: 'a form body labelled JSON', body: slashCommandBody(slashCommandFields('a cat')), contentType: JSON_TYPE },
  ];
}
