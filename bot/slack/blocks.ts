/**
 * JobMessage → Block Kit. A pure function, validated against Slack's limits on the way out.
 *
 * Layout: the prompt (plain text, so `*` and `_` in prompts stay literal), a context line with the
 * requester's mention and where the job stands, the option line (copyable), lineage, then the image
 * (an uploaded Slack file, referenced by id) and one actions block per button row. An image block's
 * block_id carries the file id: Slack asks for a new block_id when a message's image changes.
 *
 * @example
 *   renderSlackMessage(message, { imageFileId: 'F0123ABCD' }).blocks.map((b) => b.type)
 *   // → ['section', 'context', 'context', 'image', 'actions', 'actions', 'actions']
 */
import type { ButtonRow, JobMessage, MessageButton } from '../message-model.ts';
import { assertValidSlackMessage, SLACK_LIMITS, type ButtonElement, type SlackBlock, type SlackMessage } from './block-limits.ts';
import { truncate } from '../../core/truncate.ts';
import { decodeButtonId, encodeButtonId } from '../custom-id.ts';

export interface RenderOptions {
  /** The uploaded grid or preview to show. */
  imageFileId?: string;
  /** Text under the image when it could not be shown inline (e.g. still processing on Slack's side). */
  imageNote?: string;
}

/** Slack's mrkdwn treats &, < and > as control characters: escape user text before embedding it. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function buttonElement(button: MessageButton): ButtonElement {
  const label = [button.emoji, button.label].filter((part) => part !== undefined && part.length > 0).join(' ');
  const element: ButtonElement = {
    type: 'button',
    action_id: button.customId,
    text: { type: 'plain_text', text: truncate(label || button.action, SLACK_LIMITS.buttonText), emoji: true },
    value: button.customId,
  };
  if (button.style !== 'secondary') element.style = button.style;
  return element;
}

/**
 * A grid made in a mood board: Slack has room beside each 📌 for a 👍 (one actions block holds 25), so the team
 * can vote on a pinned tile right under the grid as well as on the pin card in the board's thread.
 */
function withVotes(row: ButtonRow): ButtonRow {
  if (row.kind !== 'board') return row;
  const votes = row.buttons.flatMap((button) => {
    const pin = decodeButtonId(button.customId);
    if (pin.action !== 'pin') return [];
    const customId = encodeButtonId({ action: 'vote', jobId: pin.jobId, index: pin.index });
    return [{ ...button, action: 'vote' as const, customId, label: `${pin.index}`, emoji: '👍' }];
  });
  return { ...row, buttons: [...row.buttons, ...votes] };
}

function actionsBlocks(rows: readonly ButtonRow[]): SlackBlock[] {
  // Slack has no disabled buttons: a disabled one is simply left out.
  return rows
    .map(withVotes)
    .map((row) => ({ row, buttons: row.buttons.filter((button) => !button.disabled) }))
    .filter(({ buttons }) => buttons.length > 0)
    .map(({ row, buttons }) => ({ type: 'actions' as const, block_id: `row:${row.kind}`, elements: buttons.map(buttonElement) }));
}

export function renderSlackMessage(message: JobMessage, options: RenderOptions = {}): SlackMessage {
  const mention = `<@${message.requester.userId}>`;
  const blocks: SlackBlock[] = [
    { type: 'section', block_id: 'prompt', text: { type: 'plain_text', text: truncate(message.title || '(empty prompt)', SLACK_LIMITS.sectionText), emoji: false } },
    { type: 'context', block_id: 'status', elements: [{ type: 'mrkdwn', text: truncate(`${mention} · ${escapeMrkdwn(message.statusLine)}`, SLACK_LIMITS.sectionText) }] },
  ];
  const details = message.lines.filter((line) => line.trim().length > 0).slice(0, SLACK_LIMITS.elementsPerContext);
  if (details.length > 0) {
    blocks.push({ type: 'context', block_id: 'details', elements: details.map((line) => ({ type: 'plain_text' as const, text: truncate(line, SLACK_LIMITS.sectionText), emoji: false })) });
  }
  if (options.imageFileId !== undefined) {
    blocks.push({ type: 'image', block_id: `image:${options.imageFileId}`, slack_file: { id: options.imageFileId }, alt_text: truncate(message.title || 'generated image', SLACK_LIMITS.imageAltText) });
  }
  if (options.imageNote !== undefined) {
    blocks.push({ type: 'context', block_id: 'image-note', elements: [{ type: 'plain_text', text: truncate(options.imageNote, SLACK_LIMITS.sectionText), emoji: true }] });
  }
  blocks.push(...actionsBlocks(message.buttonRows));
  return assertValidSlackMessage({ text: truncate(message.text || message.title || message.statusLine, SLACK_LIMITS.fallbackText), blocks });
}

/** A short message with no buttons: the placeholder before the job model exists, and ephemeral refusals. */
export function renderNotice(text: string, options: { title?: string; mentionUserId?: string } = {}): SlackMessage {
  const { title, mentionUserId } = options;
  const blocks: SlackBlock[] = [];
  if (title) blocks.push({ type: 'section', block_id: 'prompt', text: { type: 'plain_text', text: truncate(title, SLACK_LIMITS.sectionText), emoji: false } });
  const status = mentionUserId ? `<@${mentionUserId}> · ${escapeMrkdwn(text)}` : escapeMrkdwn(text);
  blocks.push({ type: 'context', block_id: 'status', elements: [{ type: 'mrkdwn', text: truncate(status, SLACK_LIMITS.sectionText) }] });
  return assertValidSlackMessage({ text: truncate(title ? `${title}\n${text}` : text, SLACK_LIMITS.fallbackText), blocks });
}
