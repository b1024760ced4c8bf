import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appMentionContext, AppMentionSchema, blockActionContext, BlockActionSchema, mentionPrompt, parsePayload, slashCommandContext, SlackPayloadError, SlashCommandSchema,
} from '../../bot/slack/payloads.ts';
import { SLACK_COMMANDS } from '../../bot/slack/commands.ts';
import { parseSettingsText } from '../../bot/slack/slash-commands/settings.ts';
import { jobIdFrom } from '../../core/ids.ts';

const command = { command: '/imagine', text: 'a cat', team_id: 'T0001', channel_id: 'C0001', user_id: 'U0001', trigger_id: '13345224609.738474920.8088930838d88f008e0' };

describe('Slack payload translation', () => {
  it('GIVEN a slash command THEN requester, delivery and a source id that names the same job on redelivery', () => {
    const ctx = slashCommandContext(parsePayload(SlashCommandSchema, 'slash command', command));
    expect(ctx).toEqual({
      requester: { platform: 'slack', userId: 'U0001', channelId: 'C0001', workspaceId: 'T0001' },
      delivery: { platform: 'slack', channelId: 'C0001', teamId: 'T0001' },
      sourceId: 'slack:13345224609.738474920.8088930838d88f008e0',
      channel: { ageRestricted: false },
    });
    expect(jobIdFrom(ctx.sourceId)).toBe(jobIdFrom(slashCommandContext(parsePayload(SlashCommandSchema, 'slash command', { ...command })).sourceId));
  });

  it('GIVEN a button on a message in a thread THEN the thread is kept for the child job', () => {
    const press = { type: 'block_actions', trigger_id: 't1', user: { id: 'U0002' }, team: { id: 'T0001' }, channel: { id: 'C0001' }, container: { message_ts: '1.000200', thread_ts: '1.000100' }, actions: [{ action_id: 'reroll:jabc:0' }] };
    const ctx = blockActionContext(parsePayload(BlockActionSchema, 'block action', press));
    expect(ctx.delivery).toEqual({ platform: 'slack', channelId: 'C0001', teamId: 'T0001', threadTs: '1.000100' });
    expect(ctx.requester.threadId).toBe('1.000100');
  });

  it('GIVEN an @mention THEN the prompt loses the mention and the source id is the message', () => {
    const body = { team_id: 'T0001', event_id: 'Ev1', event: { type: 'app_mention', user: 'U0003', channel: 'C0001', text: '<@UBOT|cascade>  <@UBOT> a fox', ts: '1700000000.000300' } };
    const ctx = appMentionContext(parsePayload(AppMentionSchema, 'app_mention event', body));
    expect(ctx.sourceId).toBe('slack:T0001:C0001:1700000000.000300');
    expect(mentionPrompt(body.event.text)).toBe('a fox');
    expect(mentionPrompt('no mention here')).toBe('no mention here');
  });

  it('GIVEN malformed payloads THEN the error names each bad field', () => {
    expect(() => parsePayload(SlashCommandSchema, 'slash command', { ...command, user_id: undefined, channel_id: 'not an id' })).toThrow(SlackPayloadError);
    expect(() => parsePayload(SlashCommandSchema, 'slash command', { ...command, user_id: undefined, channel_id: 'not an id' })).toThrow(
      /malformed Slack slash command payload: channel_id: must be a Slack id such as C0123ABCD; user_id: /,
    );
    expect(() => parsePayload(BlockActionSchema, 'block action', { type: 'block_actions', trigger_id: 't', user: { id: 'U1X' }, channel: { id: 'C1X' }, actions: [] })).toThrow(/actions/);
  });
});

describe('/imagine-settings text', () => {
  it.each([
    ['', { scope: 'user' }],
    ['show', { scope: 'user' }],
    ['reset', { scope: 'user', reset: true }],
    ['--ar 16:9 --style photo', { scope: 'user', options: '--ar 16:9 --style photo' }],
    ['channel', { scope: 'channel' }],
    ['channel reset', { scope: 'channel', reset: true }],
    ['channel buttons Everyone', { scope: 'channel', buttons: 'everyone' }],
    ['channel --chaos 20', { scope: 'channel', options: '--chaos 20' }],
    ['channelized --ar 1:1', { scope: 'user', options: 'channelized --ar 1:1' }],
  ])('GIVEN %j THEN %j', (text, expected) => {
    expect(parseSettingsText(text)).toEqual(expected);
  });
});

describe('app manifest', () => {
  const manifest = readFileSync(new URL('../../bot/slack/manifest.yaml', import.meta.url), 'utf8');

  it('GIVEN the manifest THEN it declares exactly the commands the app listens to, each as its definition says', () => {
    const declared = [...manifest.matchAll(/^ {4}- command: (\S+)\n {6}description: (.+)\n {6}usage_hint: "(.*)"\n {6}url: \S+\n {6}should_escape: (?:false|true)$/gm)].map((m) => ({ command: m[1], description: m[2], usage_hint: m[3] }));
    // Every `- command:` line is one of the entries read above (none skipped by an odd layout).
    expect(declared).toHaveLength([...manifest.matchAll(/^\s+- command: /gm)].length);
    expect(declared).toEqual(SLACK_COMMANDS.map((command) => command.definition));
  });

  it('GIVEN the manifest THEN it asks for the scopes the code needs, the app_mention event and interactivity', () => {
    const scopes = [...manifest.matchAll(/^\s+- ([a-z_.]+:[a-z_.]+|commands)\s/gm)].map((m) => m[1]);
    expect(scopes.sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'chat:write.public', 'commands', 'files:read', 'files:write', 'groups:history', 'users:read']);
    expect(manifest).toMatch(/bot_events:\n\s+- app_mention\n/);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
    expect(manifest).not.toMatch(/\t/);
  });
});
