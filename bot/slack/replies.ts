/**
 * Command replies (refusals, ℹ️ info, /imagine-info, settings) as ephemeral Block Kit messages.
 * Values people copy on a phone (prompt, seed, job id) go in code blocks, one per value.
 *
 * @example
 *   renderReply({ kind: 'rejected', code: 'invalid_options', message: '--ar 0:5: both sides must be 1–21' }).text
 *   // → '--ar 0:5: both sides must be 1–21'
 */
import type { DoneReply, InfoReply, Rejected } from '../commands/context.ts';
import { assertValidSlackMessage, SLACK_LIMITS, type SlackBlock, type SlackMessage } from './block-limits.ts';
import { escapeMrkdwn, renderNotice } from './blocks.ts';
import { truncate } from '../../core/truncate.ts';

/** A value inside a mrkdwn code block: escaped, and unable to close the block early. */
function codeBlock(value: string): string {
  return `\`\`\`${escapeMrkdwn(value).replace(/```/g, '`\u200b``')}\`\`\``;
}

export function renderInfo(reply: InfoReply): SlackMessage {
  const blocks: SlackBlock[] = [
    { type: 'section', block_id: 'title', text: { type: 'plain_text', text: truncate(reply.title, SLACK_LIMITS.sectionText), emoji: true } },
  ];
  if (reply.lines.length > 0) {
    blocks.push({ type: 'section', block_id: 'lines', text: { type: 'mrkdwn', text: truncate(reply.lines.map(escapeMrkdwn).join('\n'), SLACK_LIMITS.sectionText) } });
  }
  reply.copyable.slice(0, SLACK_LIMITS.blocksPerMessage - blocks.length).forEach((item, i) => {
    blocks.push({ type: 'section', block_id: `copy:${i}`, text: { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(item.label)}*\n${codeBlock(item.value)}`, SLACK_LIMITS.sectionText) } });
  });
  // The pictures the asker may open, as image blocks (Slack loads the short-lived link once and shows the picture).
  for (const [i, p] of (reply.pictures ?? []).entries()) {
    if (!p.url || p.url.length > SLACK_LIMITS.imageUrl || blocks.length >= SLACK_LIMITS.blocksPerMessage) continue;
    const label = truncate(p.label, SLACK_LIMITS.imageAltText);
    blocks.push({ type: 'image', block_id: `picture:${i}`, image_url: p.url, alt_text: label, title: { type: 'plain_text', text: truncate(p.label, SLACK_LIMITS.sectionText), emoji: true } });
  }
  const text = [reply.title, ...reply.lines, ...reply.copyable.map((item) => `${item.label}: ${item.value}`)].join('\n');
  return assertValidSlackMessage({ text: truncate(text, SLACK_LIMITS.fallbackText), blocks });
}

export function renderReply(reply: InfoReply | Rejected | DoneReply): SlackMessage {
  return reply.kind === 'info' ? renderInfo(reply) : renderNotice(reply.message);
}
