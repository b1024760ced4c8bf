import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildJobMessage } from '../../bot/message-model.ts';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { renderNotice, renderSlackMessage } from '../../bot/slack/blocks.ts';
import { assertValidSlackMessage, SLACK_LIMITS, SlackBlocksError, slackMessageProblems, type SlackBlock } from '../../bot/slack/block-limits.ts';
import type { JobState } from '../../bot/job-state.ts';
import { resultOf, slackJob } from './support/fixtures.ts';

const job = slackJob({ messageTs: '1700000000.000100' });
const done: JobState = { phase: 'completed', result: resultOf(job), updatedAt: 1 };

function buttonTexts(blocks: SlackBlock[]): string[][] {
  return blocks.filter((b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions').map((b) => b.elements.map((e) => e.text.text));
}

describe('renderSlackMessage', () => {
  it('GIVEN a finished grid THEN it shows the image and U1–U4 🔄, V1–V4 ℹ️, V1+–V4+ 🗑️, R1–R4 with decodable, unique action ids', () => {
    const rendered = renderSlackMessage(buildJobMessage(job, done), { imageFileId: 'F0123ABCDE' });
    expect(rendered.blocks.map((b) => b.type)).toEqual(['section', 'context', 'context', 'image', 'actions', 'actions', 'actions', 'actions']);
    expect(buttonTexts(rendered.blocks)).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4', 'ℹ️'],
      ['V1+', 'V2+', 'V3+', 'V4+', '🗑️'],
      ['R1', 'R2', 'R3', 'R4'],
    ]);
    const ids = rendered.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.action_id) : []));
    expect(new Set(ids).size).toBe(19);
    expect(ids.map((id) => decodeButtonId(id).jobId)).toEqual(Array(19).fill(job.id));
    expect(ids.slice(15)).toEqual([1, 2, 3, 4].map((tile) => `remix:${job.id}:${tile}`));
    expect(rendered.blocks.at(-1)).toMatchObject({ type: 'actions', block_id: 'row:remix' });
    expect(rendered.blocks.find((b) => b.type === 'image')).toMatchObject({ slack_file: { id: 'F0123ABCDE' }, block_id: 'image:F0123ABCDE', alt_text: job.request.prompt });
  });

  it('GIVEN a queued job THEN it shows the position, the requester mention and only the cancel button', () => {
    const rendered = renderSlackMessage(buildJobMessage(job, { phase: 'queued', position: 3, updatedAt: 1 }));
    expect(rendered.blocks[1]).toEqual({ type: 'context', block_id: 'status', elements: [{ type: 'mrkdwn', text: '<@U0001> · Queued · position 3' }] });
    expect(rendered.blocks.some((b) => b.type === 'image')).toBe(false);
    expect(buttonTexts(rendered.blocks)).toHaveLength(1);
    expect(rendered.text).toContain('Queued · position 3');
  });

  it('GIVEN a prompt with Slack control characters THEN the prompt stays literal and mrkdwn text is escaped', () => {
    const tricky = slackJob({ messageTs: '1.2', prompt: 'a <!channel> & *bold* cat' });
    const rendered = renderSlackMessage(buildJobMessage(tricky, { phase: 'failed', failure: { code: 'x', reason: 'bad <input> & more', willRetry: false }, updatedAt: 1 }));
    expect(rendered.blocks[0]).toMatchObject({ text: { type: 'plain_text', text: 'a <!channel> & *bold* cat' } });
    expect(JSON.stringify(rendered.blocks[1])).toContain('Failed: bad &lt;input&gt; &amp; more');
    expect(JSON.stringify(rendered.blocks)).not.toContain('<!channel>"}],"type":"context');
  });

  it('GIVEN any prompt and state THEN the rendered message stays within Slack limits', () => {
    const states = fc.oneof(
      fc.record({ phase: fc.constant('queued' as const), position: fc.nat(10_000), updatedAt: fc.constant(1) }),
      fc.record({ phase: fc.constant('running' as const), progress: fc.record({ fraction: fc.double({ min: 0, max: 1, noNaN: true }) }), updatedAt: fc.constant(1) }),
      fc.constant(done),
      fc.record({ phase: fc.constant('failed' as const), failure: fc.record({ code: fc.constant('model_error'), reason: fc.string({ minLength: 1, maxLength: 500 }), willRetry: fc.constant(false) }), updatedAt: fc.constant(1) }),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 2000, unit: 'grapheme' }), states, (prompt, state) => {
        const message = buildJobMessage(slackJob({ messageTs: '1.2', prompt }), state);
        const rendered = renderSlackMessage(message, state.phase === 'completed' ? { imageFileId: 'F0123ABCDE' } : {});
        expect(slackMessageProblems(rendered)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Slack limits', () => {
  const button = (id: string) => ({ type: 'button' as const, action_id: id, text: { type: 'plain_text' as const, text: id } });

  it('GIVEN 51 blocks THEN the error names the block limit', () => {
    const blocks: SlackBlock[] = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(() => assertValidSlackMessage({ text: 'x', blocks })).toThrow(/51 blocks, the limit is 50/);
  });

  it('GIVEN 26 buttons in one actions block THEN the error names the block and the 25-element limit', () => {
    const blocks: SlackBlock[] = [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }];
    expect(slackMessageProblems({ text: 'x', blocks })).toEqual(['blocks[0] (actions): an actions block needs 1–25 elements, got 26']);
  });

  it('GIVEN the same action_id in two blocks, a long button text and an empty fallback THEN every problem is reported at once', () => {
    const blocks: SlackBlock[] = [
      { type: 'actions', elements: [button('same')] },
      { type: 'actions', elements: [button('same'), { ...button('long'), text: { type: 'plain_text', text: 'x'.repeat(SLACK_LIMITS.buttonText + 1) } }] },
    ];
    const error = (() => {
      try {
        assertValidSlackMessage({ text: ' ', blocks });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SlackBlocksError);
    expect((error as SlackBlocksError).problems).toEqual([
      'text: the fallback text must not be empty',
      'blocks[1] (actions).elements[0]: action_id "same" is used twice in the message',
      'blocks[1] (actions).elements[1]: button text must be 1–75 characters',
    ]);
  });

  it('GIVEN an image block with a malformed file id THEN it is refused', () => {
    expect(slackMessageProblems({ text: 'x', blocks: [{ type: 'image', alt_text: 'a', slack_file: { id: 'https://files.slack.com/x.png' } }] })).toEqual([
      'blocks[0] (image): slack_file.id must look like F0123ABCD',
    ]);
  });

  it('GIVEN a notice THEN it renders a valid message without buttons', () => {
    const notice = renderNotice('Working on it <soon>', { title: 'a cat', mentionUserId: 'U0001' });
    expect(notice.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(JSON.stringify(notice.blocks)).toContain('<@U0001> · Working on it &lt;soon&gt;');
  });
});
