/**
 * Slack Block Kit for mood boards: the header in the channel (its thread is the session), the end summary and
 * the pin card posted in the thread when a tile is pinned (👍 vote, ⭐ hero, unpin). Every message passes
 * `assertValidSlackMessage` (≤ 50 blocks, section text ≤ 3000, button text ≤ 75, action ids ≤ 255).
 */
import type { BoardHeader, BoardSummary } from '../boards/board-message.js';
import { encodeButtonId } from '../custom-id.js';
import { assertValidSlackMessage, type SlackMessage } from './block-limits.js';
import { escapeMrkdwn } from './blocks.js';

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderBoardHeaderBlocks(header: BoardHeader, collageFileId?: string): SlackMessage {
  const lines = [
    `*${escapeMrkdwn(header.title)}*`,
    header.brief ? `_${escapeMrkdwn(clip(header.brief, 1000))}_` : '',
    `Host: <@${header.host.userId}> · ${escapeMrkdwn(header.statusLine)}`,
    header.tasteLine ? `Taste: ${escapeMrkdwn(header.tasteLine)}` : '',
    `Board code: \`${header.code}\``,
    header.final ? '' : 'This thread is the session: `@cascade <prompt>` here (or `/imagine` in the channel) joins the board; 📌 under a tile pins it.',
  ].filter(Boolean);
  return assertValidSlackMessage({
    text: clip(header.text, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3000) } },
      ...(collageFileId ? [{ type: 'image', block_id: `collage-${collageFileId}`, slack_file: { id: collageFileId }, alt_text: clip(`Collage of ${header.title}`, 2000) }] : []),
      ...(header.pageUrl ? [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Board page' }, url: header.pageUrl, action_id: 'board-page' }] }] : []),
    ],
  } as SlackMessage);
}

export function renderBoardSummaryBlocks(summary: BoardSummary): SlackMessage {
  const top = summary.top.map((pin) => `${pin.rank}. ${escapeMrkdwn(clip(pin.prompt, 150))} — ${pin.votes} 👍${pin.hero ? ' ⭐' : ''} (<@${pin.author.userId}>)`);
  return assertValidSlackMessage({
    text: clip(summary.text, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip([`*${escapeMrkdwn(summary.title)}*`, ...summary.lines.map(escapeMrkdwn), '', top.length ? '*Top pins*' : 'Nothing was pinned.', ...top].join('\n'), 3000) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`<${summary.exports.collage}|Collage (PNG)> · <${summary.exports.sheet}|Contact sheet (PDF)> · <${summary.exports.zip}|All images (zip)>`, 3000) } },
    ],
  });
}

export function renderPinCardBlocks(jobId: string, tile: 1 | 2 | 3 | 4, message: string, pinnedBy: string): SlackMessage {
  const id = (action: 'vote' | 'hero' | 'unpin') => encodeButtonId({ action, jobId, index: tile });
  return assertValidSlackMessage({
    text: clip(message, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`${escapeMrkdwn(message)} (by <@${pinnedBy}>)`, 3000) } },
      { type: 'actions', elements: [
        { type: 'button', text: { type: 'plain_text', text: '👍 Vote' }, action_id: id('vote'), value: id('vote'), style: 'primary' },
        { type: 'button', text: { type: 'plain_text', text: '⭐ Hero' }, action_id: id('hero'), value: id('hero') },
        { type: 'button', text: { type: 'plain_text', text: 'Unpin' }, action_id: id('unpin'), value: id('unpin') },
      ] },
    ],
  });
}
