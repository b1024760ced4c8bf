/**
 * One Slack slash command as data: its manifest entry (`definition`) and what runs when someone uses it
 * (`execute`), one file per command in slash-commands/, checked with `satisfies SlackSlashCommand`.
 * SLACK_COMMANDS (commands.ts) lists them; listeners.ts registers every one, and a test holds
 * manifest.yaml to the same list, so a new command is its file, one line there and its manifest entry.
 */
import type { WebClient } from '@slack/web-api';
import type { BotDeps, ButtonReply, CommandContext } from '../commands/context.ts';
import type { SlackMessage } from './block-limits.ts';
import type { SlashCommandPayload } from './payloads.ts';
import type { SlackFileDeps, SlackPictureRequest } from './files.ts';

/** Sends a message to the actor alone (ephemeral). */
export type Tell = (message: SlackMessage) => Promise<unknown>;
/** The bot-core call that makes a job, given the context with the placeholder message's ts and the pictures' bytes. */
export type Submit = (ctx: CommandContext, pictures: readonly Uint8Array[]) => Promise<ButtonReply>;

/** One use of a command, as `execute` sees it (already acked; a throw ends in one ephemeral sentence). */
export interface SlackSlashCommandCall {
  bot: BotDeps;
  payload: SlashCommandPayload;
  ctx: CommandContext;
  client: WebClient;
  /** For commands that take Slack files (bot/slack/files.ts): the client and the bot token. */
  files: SlackFileDeps;
  tell: Tell;
  /**
   * The job-making path shared with buttons and mentions: placeholder message, submit, clean-up (listeners.ts).
   * `at` replaces `ctx` (a board's thread, a per-grid source id); default `ctx`. `pictures`: Slack files the request
   * names (bot/slack/files.ts), fetched after the cheap checks and before the placeholder is posted.
   */
  startJob: (text: string | undefined, submit: Submit, at?: CommandContext, pictures?: SlackPictureRequest) => Promise<void>;
}

export interface SlackSlashCommand {
  /** Its entry under `features.slash_commands` in manifest.yaml (without the request URL). */
  definition: { command: `/${string}`; description: string; usage_hint: string };
  execute(call: SlackSlashCommandCall): Promise<void>;
}
