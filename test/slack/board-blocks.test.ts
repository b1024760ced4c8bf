/**
 * Unit table for the Slack board renderers: every message stays inside Block Kit's limits whatever the board's
 * name, brief or links are (assertValidSlackMessage runs inside each renderer), user text cannot inject mrkdwn
 * links or mentions, and a URL too long to work is left out rather than cut into a broken link.
 */
import { describe, expect, it } from 'vitest';
import type { BoardHeader, BoardSummary } from '../../bot/boards/board-message.ts';
import { slackMessageProblems } from '../../bot/slack/block-limits.ts';
import { renderBoardHeaderBlocks, renderBoardSummaryBlocks, renderPinCard } from '../../bot/slack/board-blocks.ts';
import { renderSlackMessage } from '../../bot/slack/blocks.ts';
import { decodeButtonId, encodeButtonId } from '../../bot/custom-id.ts';
import type { JobMessage } from '../../bot/message-model.ts';

function header(overrides: Partial<BoardHeader> = {}): BoardHeader {
  return {
    boardId: 'b0123456789a', title: '📋 Spring campaign', brief: 'pastel, outdoors', host: { platform: 'slack', userId: 'U0HOST01' },
    statusLine: 'Open until 2026-12-08 10:00 UTC · 1/48 pins', tasteLine: 'kite dunes', code: 'mb-b0123456789a-abcdefghi', final: false, text: '📋 Spring campaign', ...overrides,
  };
}

function summary(overrides: Partial<BoardSummary> = {}): BoardSummary {
  return {
    boardId: 'b0123456789a', title: '🏁 Spring campaign — final board', lines: ['2 participants · 4 generations · 1 pin'], code: 'mb-b0123456789a-abcdefghi',
    top: [{ rank: 1, prompt: 'a red kite', votes: 2, author: { platform: 'slack', userId: 'U0MEMB01' }, hero: true, jobId: 'j1', tile: 2 }],
    exports: { collage: 'http://s3.local/c.png?X-Amz-Signature=1', sheet: 'http://s3.local/s.pdf?X-Amz-Signature=2', zip: 'http://s3.local/b.zip?X-Amz-Signature=3' },
    text: '🏁 Spring campaign — final board', ...overrides,
  };
}

const json = (value: unknown) => JSON.stringify(value);

describe('renderBoardHeaderBlocks', () => {
  it.each([
    ['a plain header with its collage', header(), { collageFileId: 'F0123456789' }],
    ['a 100-character name and a 1000-character brief', header({ title: `📋 ${'n'.repeat(100)}`, brief: 'b'.repeat(1000), text: 'x'.repeat(50_000) }), {}],
    ['an ended header (no how-to line)', header({ final: true, statusLine: 'Ended 2026-12-08 10:00 UTC' }), { imageNote: 'still processing' }],
  ])('GIVEN %s THEN Slack would accept it', (_name, input, options) => {
    expect(slackMessageProblems(renderBoardHeaderBlocks(input, options))).toEqual([]);
  });

  it('GIVEN a brief with mrkdwn link and mention syntax THEN it is escaped, not a link or a ping', () => {
    const text = json(renderBoardHeaderBlocks(header({ brief: '<https://evil.example|click> <!channel> & co' })).blocks);
    expect(text).toContain('&lt;https://evil.example|click&gt; &lt;!channel&gt; &amp; co');
  });

  it('GIVEN a page URL THEN it is a link; GIVEN one longer than Slack takes THEN it is left out', () => {
    expect(json(renderBoardHeaderBlocks(header({ pageUrl: 'http://127.0.0.1:9/boards/b0123456789a?t=tok' })).blocks)).toContain('<http://127.0.0.1:9/boards/b0123456789a?t=tok|Board page>');
    expect(json(renderBoardHeaderBlocks(header({ pageUrl: `http://x/${'a'.repeat(4000)}` })).blocks)).not.toContain('Board page');
  });

  it('GIVEN the collage file THEN the image block names it, with a block_id that changes with the file', () => {
    const image = renderBoardHeaderBlocks(header(), { collageFileId: 'F0123456789' }).blocks.find((b) => b.type === 'image');
    expect(image).toMatchObject({ block_id: 'collage:F0123456789', slack_file: { id: 'F0123456789' } });
  });
});

describe('renderBoardSummaryBlocks', () => {
  it('GIVEN the top pins and the exports THEN one link per export element, the hero marked, within limits', () => {
    const message = renderBoardSummaryBlocks(summary(), { collageFileId: 'F0123456789' });
    expect(slackMessageProblems(message)).toEqual([]);
    expect(message.blocks.find((b) => b.block_id === 'top')).toMatchObject({ text: { text: '*Top pins*\n1. a red kite — 2 👍 ⭐ (<@U0MEMB01>)' } });
    const exportsBlock = message.blocks.find((b) => b.block_id === 'exports');
    expect(exportsBlock?.type === 'context' ? exportsBlock.elements.map((e) => e.text) : []).toEqual([
      '<http://s3.local/c.png?X-Amz-Signature=1|Collage (PNG)>', '<http://s3.local/s.pdf?X-Amz-Signature=2|Contact sheet (PDF)>', '<http://s3.local/b.zip?X-Amz-Signature=3|All images (zip)>',
    ]);
  });

  it('GIVEN presigned URLs of 2 900 characters each and five long prompts THEN still within limits', () => {
    const long = (n: number) => `http://s3.local/${n}?${'s'.repeat(2900)}`;
    const top = Array.from({ length: 5 }, (_, i) => ({ ...summary().top[0]!, rank: i + 1, prompt: 'p'.repeat(2000) }));
    expect(slackMessageProblems(renderBoardSummaryBlocks(summary({ top, exports: { collage: long(1), sheet: long(2), zip: long(3) } })))).toEqual([]);
  });

  it('GIVEN nothing pinned THEN it says so', () => {
    expect(json(renderBoardSummaryBlocks(summary({ top: [] })).blocks)).toContain('Nothing was pinned.');
  });
});

describe('renderPinCard and the board row under a grid', () => {
  it('GIVEN a pin THEN the card has 👍 ⭐ unpin for that tile', () => {
    const card = renderPinCard('j0123abcd', 3, '📌 Pinned tile 3 to "Spring".', 'U0MEMB01');
    const ids = card.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.action_id) : []));
    expect(ids.map((id) => decodeButtonId(id)).map((b) => `${b.action}:${b.index}`)).toEqual(['vote:3', 'hero:3', 'unpin:3']);
  });

  it('GIVEN a grid made in a board THEN its board row carries 📌 and 👍 per tile in one actions block', () => {
    const pin = (t: 1 | 2 | 3 | 4) => ({ action: 'pin' as const, index: t, customId: encodeButtonId({ action: 'pin', jobId: 'j0123abcd', index: t }), label: `${t}`, emoji: '📌', style: 'secondary' as const, disabled: false });
    const message: JobMessage = {
      title: 'a kite', text: 'a kite', statusLine: 'Done', lines: [], final: true, status: 'completed', requester: { platform: 'slack', userId: 'U1', channelId: 'C1' },
      buttonRows: [{ kind: 'board', buttons: [pin(1), pin(2), pin(3), pin(4)] }],
    } as unknown as JobMessage;
    const rows = renderSlackMessage(message).blocks.filter((b) => b.type === 'actions');
    expect(rows).toHaveLength(1);
    const labels = rows[0]!.type === 'actions' ? rows[0]!.elements.map((e) => `${e.action_id.split(':')[0]}:${e.text.text}`) : [];
    expect(labels).toEqual(['pin:📌 1', 'pin:📌 2', 'pin:📌 3', 'pin:📌 4', 'vote:👍 1', 'vote:👍 2', 'vote:👍 3', 'vote:👍 4']);
  });
});
