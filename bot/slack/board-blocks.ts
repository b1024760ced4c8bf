/**
 * Block Kit for mood boards (bot/boards/), the Slack counterpart of bot/discord/board-render.ts:
 * - the board header, posted in the channel by `/board start` and edited with chat.update by the header updater:
 *   name, brief, host, status line, taste line, code, the page link (link boards) and the collage as an image block;
 * - the end summary, posted in the header's thread (the session) and broadcast to the channel;
 * - the pin card, posted in the thread when a tile is pinned: 👍 vote, ⭐ hero (host only; others get the core's
 *   refusal), unpin. One actions block of three buttons, far under Slack's 25.
 * Every message passes `assertValidSlackMessage`, so a long name, brief or URL is clipped here, never refused by Slack.
 */
import type { BoardHeader, BoardSummary } from '../boards/board-message.ts';
import { encodeButtonId } from '../custom-id.ts';
import { truncate } from '../../core/truncate.ts';
import { assertValidSlackMessage, SLACK_LIMITS, type SlackBlock, type SlackMessage } from './block-limits.ts';
import { escapeMrkdwn } from './blocks.ts';

/** A link in mrkdwn; a URL too long to be a working link is left out rather than cut. */
function link(url: string, label: string): string | undefined {
  return url.length <= SLACK_LIMITS.imageUrl && !/[<>|\s]/.test(url) ? `<${url}|${label}>` : undefined;
}

function collageBlock(fileId: string | undefined, alt: string): SlackBlock[] {
  return fileId ? [{ type: 'image', block_id: `collage:${fileId}`, slack_file: { id: fileId }, alt_text: truncate(alt, SLACK_LIMITS.imageAltText) }] : [];
}

export interface BoardImageOptions {
  /** The uploaded collage to show. */
  collageFileId?: string;
  /** Shown when the collage could not be shown inline (Slack still processing the upload). */
  imageNote?: string;
}

function noteBlock(note: string | undefined): SlackBlock[] {
  return note ? [{ type: 'context', block_id: 'image-note', elements: [{ type: 'plain_text', text: truncate(note, SLACK_LIMITS.sectionText), emoji: true }] }] : [];
}

export function renderBoardHeaderBlocks(header: BoardHeader, options: BoardImageOptions = {}): SlackMessage {
  const page = header.pageUrl ? link(header.pageUrl, 'Board page') : undefined;
  const lines = [
    header.brief ? `_${escapeMrkdwn(truncate(header.brief, 1000))}_` : '',
    `Host: <@${header.host.userId}>`,
    escapeMrkdwn(header.statusLine),
    header.tasteLine ? `Taste: ${escapeMrkdwn(header.tasteLine)}` : '',
    `Board code: \`${header.code}\``,
    page ?? '',
  ].filter(Boolean);
  const blocks: SlackBlock[] = [
    { type: 'section', block_id: 'title', text: { type: 'plain_text', text: truncate(header.title, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'section', block_id: 'lines', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), SLACK_LIMITS.sectionText) } },
    ...(header.final
      ? []
      : [{ type: 'context' as const, block_id: 'how', elements: [{ type: 'mrkdwn' as const, text: 'Make images in this thread with `@cascade <prompt>`, or `/imagine` and `/board generate` in the channel: they all join this board. 📌 pins a tile, 👍 votes.' }] }]),
    ...collageBlock(options.collageFileId, `Collage of the pins of ${header.title}`),
    ...noteBlock(options.imageNote),
  ];
  return assertValidSlackMessage({ text: truncate(header.text, SLACK_LIMITS.fallbackText), blocks });
}

export function renderBoardSummaryBlocks(summary: BoardSummary, options: BoardImageOptions = {}): SlackMessage {
  const top = summary.top.map((pin) => `${pin.rank}. ${escapeMrkdwn(truncate(pin.prompt, 150))} — ${pin.votes} 👍${pin.hero ? ' ⭐' : ''} (<@${pin.author.userId}>)`);
  const exportLinks = [link(summary.exports.collage, 'Collage (PNG)'), link(summary.exports.sheet, 'Contact sheet (PDF)'), link(summary.exports.zip, 'All images (zip)')].filter((l): l is string => l !== undefined);
  const page = summary.pageUrl ? link(summary.pageUrl, 'Board page') : undefined;
  const blocks: SlackBlock[] = [
    { type: 'section', block_id: 'title', text: { type: 'plain_text', text: truncate(summary.title, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'section', block_id: 'lines', text: { type: 'mrkdwn', text: truncate([...summary.lines.map(escapeMrkdwn), ...(page ? [page] : [])].join('\n'), SLACK_LIMITS.sectionText) } },
    { type: 'section', block_id: 'top', text: { type: 'mrkdwn', text: truncate(top.length ? ['*Top pins*', ...top].join('\n') : 'Nothing was pinned.', SLACK_LIMITS.sectionText) } },
    // Presigned links run to hundreds of characters: one context element each keeps every one whole.
    ...(exportLinks.length ? [{ type: 'context' as const, block_id: 'exports', elements: exportLinks.map((text) => ({ type: 'mrkdwn' as const, text })) }] : []),
    ...collageBlock(options.collageFileId, `Final collage of ${summary.title}`),
    ...noteBlock(options.imageNote),
  ];
  return assertValidSlackMessage({ text: truncate(summary.text, SLACK_LIMITS.fallbackText), blocks });
}

/** Posted in the board's thread when a tile is pinned: everyone votes from there. */
export function renderPinCard(jobId: string, tile: 1 | 2 | 3 | 4, message: string, pinnedBy: string): SlackMessage {
  const id = (action: 'vote' | 'hero' | 'unpin') => encodeButtonId({ action, jobId, index: tile });
  const text = `${message} (by <@${pinnedBy}>)`;
  return assertValidSlackMessage({
    text: truncate(text, SLACK_LIMITS.fallbackText),
    blocks: [
      { type: 'section', block_id: 'pin', text: { type: 'mrkdwn', text: truncate(`${escapeMrkdwn(message)} (by <@${pinnedBy}>)`, SLACK_LIMITS.sectionText) } },
      {
        type: 'actions',
        block_id: 'row:pin-card',
        elements: [
          { type: 'button', action_id: id('vote'), value: id('vote'), style: 'primary', text: { type: 'plain_text', text: '👍 Vote', emoji: true } },
          { type: 'button', action_id: id('hero'), value: id('hero'), text: { type: 'plain_text', text: '⭐ Hero', emoji: true } },
          { type: 'button', action_id: id('unpin'), value: id('unpin'), text: { type: 'plain_text', text: 'Unpin', emoji: true } },
        ],
      },
    ],
  });
}
