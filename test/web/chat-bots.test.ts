/**
 * `npm start` with Slack tokens: the same process tree also runs the Slack app in Socket Mode and the
 * one dispatcher delivers to Slack and to the playground. Slack's side is a recording Web API and a
 * Socket Mode WebSocket on 127.0.0.1 (test/slack/support), so no account is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { silentLogger } from '../../core/log.ts';
import { startSystem, type System } from '../../local/system.ts';
import { RecordingSlackApi } from '../slack/support/recording-slack-api.ts';
import { SocketModeLink } from '../slack/support/socket-mode-link.ts';
import { makeDataDir, testEnv } from './support/system.ts';

let api: RecordingSlackApi;
let link: SocketModeLink;
let system: System;
let dataDir: string;
const lines: string[] = [];

beforeAll(async () => {
  api = await new RecordingSlackApi().start();
  link = new SocketModeLink(api.httpServer);
  dataDir = await makeDataDir();
  system = await startSystem({
    env: testEnv(dataDir, { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APP_TOKEN: 'xapp-test' }),
    log: silentLogger,
    say: (line) => lines.push(line),
    platformApis: { slack: api.url },
  });
  await link.connected;
});

afterAll(async () => {
  await system?.stop();
  await link?.close();
  await api?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('GIVEN npm start with Slack tokens', () => {
  it('THEN its summary says Slack is connected and the dispatcher delivers to the web and to Slack', () => {
    expect(lines).toContain('slack      connected (Socket Mode)');
    expect(lines).toContain('dispatcher delivering to web, slack');
    expect(lines.some((line) => line.startsWith('discord    off'))).toBe(true);
  });

  it('WHEN /imagine arrives over Socket Mode THEN the Slack message ends with the grid, and the playground still answers', async () => {
    const payload = { team_id: 'T0001', channel_id: 'C0001', user_id: 'U0001', command: '/imagine', text: 'a yellow circle in the center on a purple background --seed 3', trigger_id: 'start.1', response_url: api.responseUrl('start') };
    await link.send({ envelope_id: 'env-start-1', type: 'slash_commands', payload, accepts_response_payload: true });
    const done = () => [...api.messages.values()].find((message) => JSON.stringify(message.blocks).includes('Done') && (message.blocks as Array<{ type: string }>).some((block) => block.type === 'image'));
    await api.waitFor(() => done() !== undefined, 30_000);
    expect(done()!.channel).toBe('C0001');
    const page = await fetch(system.webUrl);
    expect(page.status).toBe(200);
    // A Slack job belongs to Slack's channel, not to the playground's.
    const channel = (await (await fetch(new URL('/api/messages', system.webUrl))).json()) as { messages: unknown[] };
    expect(channel.messages).toEqual([]);
  });
});
