import { describe, expect, it } from 'vitest';
import { buildJobMessage } from '../../bot/message-model.ts';
import type { JobState } from '../../bot/job-state.ts';
import { assertDiscordMessage, DiscordLimitError } from '../../bot/discord/limits.ts';
import { renderDiscordMessage } from '../../bot/discord/render.ts';
import { discordJob, gridResult } from './support/fixtures.ts';

const job = discordJob();
const button = (id: string) => ({ type: 2, style: 2, label: 'x', custom_id: id });
const row = (ids: string[]) => ({ type: 1, components: ids.map(button) });

describe('renderDiscordMessage', () => {
  const single = { ...gridResult(job), images: [gridResult(job).images[0]!] };
  const states: Array<[string, JobState]> = [
    ['queued', { phase: 'queued', position: 4, updatedAt: 1 }],
    ['waking', { phase: 'queued', waking: true, updatedAt: 1 }],
    ['running', { phase: 'running', progress: { fraction: 0.45, stage: 'prior' }, attempt: 2, updatedAt: 1 }],
    ['completed grid', { phase: 'completed', result: gridResult(job), updatedAt: 1 }],
    ['completed single', { phase: 'completed', result: single, updatedAt: 1 }],
    ['failed', { phase: 'failed', failure: { code: 'model_error', reason: 'The GPU ran out of memory.', willRetry: false }, updatedAt: 1 }],
    ['cancelled', { phase: 'cancelled', updatedAt: 1 }],
  ];

  it.each(states)('GIVEN a %s job THEN the message is within Discord limits and every button has a decodable custom id', (_name, state) => {
    const message = renderDiscordMessage(buildJobMessage(job, state));
    expect(message.components!.length).toBeLessThanOrEqual(5);
    for (const actionRow of message.components!) expect(actionRow.components.length).toBeLessThanOrEqual(5);
  });

  it('GIVEN a finished grid THEN four rows: U1–U4 🔄, V1–V4 ℹ️, V1+–V4+ 🗑️ and R1–R4, whose ids open the remix dialog per tile', () => {
    const message = renderDiscordMessage(buildJobMessage(job, states[3]![1]));
    const rows = message.components!.map((actionRow) => actionRow.components.map((b) => ('label' in b && b.label) || ('emoji' in b && b.emoji?.name) || ''));
    expect(rows).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4', 'ℹ️'],
      ['V1+', 'V2+', 'V3+', 'V4+', '🗑️'],
      ['R1', 'R2', 'R3', 'R4'],
    ]);
    expect(message.components![3]!.components.map((b) => ('custom_id' in b ? b.custom_id : ''))).toEqual([1, 2, 3, 4].map((tile) => `remix:${job.id}:${tile}`));
  });

  it('GIVEN a 2000-character prompt THEN the title is cut to 256 and the message still validates', () => {
    const long = { ...job, request: { ...job.request, prompt: 'storm '.repeat(333) } };
    const message = renderDiscordMessage(buildJobMessage(long, states[0]![1]));
    expect(message.embeds![0]!.title!.length).toBeLessThanOrEqual(256);
  });

  it('GIVEN progress THEN the status line with the bar and the copyable options show', () => {
    const message = renderDiscordMessage(buildJobMessage(job, states[2]![1]));
    expect(message.embeds![0]!.description).toContain('45 %');
    expect(message.embeds![0]!.description).toContain('retrying on another GPU');
    expect(message.embeds![0]!.description).toContain('`--ar 3:2 --seed 42`');
  });
});

describe('assertDiscordMessage', () => {
  it.each([
    ['six action rows', { components: Array.from({ length: 6 }, (_, r) => row([`r${r}`])) }, 'components'],
    ['six buttons in a row', { components: [row(['a', 'b', 'c', 'd', 'e', 'f'])] }, 'components.0'],
    ['a 101-character custom id', { components: [row(['x'.repeat(101)])] }, 'custom_id'],
    ['duplicate custom ids', { components: [row(['a']), row(['a'])] }, 'unique'],
    ['2001 characters of content', { content: 'x'.repeat(2001) }, 'content'],
    ['embeds over 6000 characters together', { embeds: [{ description: 'x'.repeat(4000) }, { description: 'y'.repeat(2500) }] }, '6000'],
    ['a button without label or emoji', { components: [{ type: 1, components: [{ type: 2, style: 2, custom_id: 'a' }] }] }, 'label or an emoji'],
    ['a link button with a custom id', { components: [{ type: 1, components: [{ type: 2, style: 5, label: 'go', url: 'https://x', custom_id: 'a' }] }] }, 'link button'],
  ])('GIVEN %s THEN it throws a DiscordLimitError naming the problem', (_name, message, fragment) => {
    expect(() => assertDiscordMessage(message)).toThrow(DiscordLimitError);
    expect(() => assertDiscordMessage(message)).toThrow(fragment);
  });

  it('GIVEN five rows of five unique buttons THEN it passes', () => {
    const components = Array.from({ length: 5 }, (_, r) => row(Array.from({ length: 5 }, (_, b) => `id-${r}-${b}`)));
    expect(assertDiscordMessage({ components }).components).toHaveLength(5);
  });
});
