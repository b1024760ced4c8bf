import { describe, expect, it } from 'vitest';
import { checkPlace, createModerationPolicy, moderatePrompt, normaliseText, promptWords } from '../../bot/moderation.ts';

const policy = createModerationPolicy({ blocklist: ['gore', 'blood bath'], restrictedOnly: ['nude'] });
const sfw = { ageRestricted: false };
const nsfw = { ageRestricted: true };

describe('prompt moderation', () => {
  it.each([
    'gore',
    'GORE on the walls',
    'Göre',
    'g0re',
    'g.o.r.e',
    'g o r e everywhere',
    'g-o-r-e',
    'goooore',
    'a BLOOD   bath scene',
    'gores',
  ])('GIVEN %j THEN it is refused with a message naming the word', (prompt) => {
    const verdict = moderatePrompt(policy, prompt, sfw);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) {
      expect(verdict.code).toBe('blocked_prompt');
      expect(verdict.message).toMatch(/"(gore|blood bath)" is not allowed/);
    }
  });

  it.each(['gorgeous sunset', 'a bloody mary cocktail', 'Gorey Street sign', 'a red bath', 'my goreless story', 'a lighthouse in a storm'])(
    'GIVEN the harmless %j THEN it is allowed (whole words only)',
    (prompt) => {
      expect(moderatePrompt(policy, prompt, sfw)).toEqual({ allowed: true });
    },
  );

  it('GIVEN a word from the age-restricted list THEN it is refused in ordinary channels and allowed in age-restricted ones', () => {
    const refused = moderatePrompt(policy, 'a Nude statue', sfw);
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) expect(refused.message).toMatch(/outside age-restricted channels/);
    expect(moderatePrompt(policy, 'a Nude statue', nsfw)).toEqual({ allowed: true });
  });

  it('GIVEN an age-restricted channel THEN the base list still applies', () => {
    expect(moderatePrompt(policy, 'gore', nsfw).allowed).toBe(false);
  });

  it('normalises case, diacritics and leetspeak', () => {
    expect(normaliseText('Crème BRÛLÉE 4ever')).toBe('creme brulee aever');
    expect(promptWords('n.u.d.e art, by A. Person')).toEqual(['nude', 'art', 'by', 'a', 'person']);
  });
});

describe('allow-lists', () => {
  const listed = createModerationPolicy({ blocklist: [], allowedWorkspaces: ['g1'], allowedChannels: ['c1'] });

  it('GIVEN a request from an allowed workspace and channel THEN it is allowed', () => {
    expect(checkPlace(listed, { platform: 'discord', userId: 'u', channelId: 'c1', workspaceId: 'g1' })).toEqual({ allowed: true });
  });

  it('GIVEN another workspace THEN it is refused as such', () => {
    expect(checkPlace(listed, { platform: 'discord', userId: 'u', channelId: 'c1', workspaceId: 'g2' })).toMatchObject({ allowed: false, code: 'workspace_not_allowed' });
  });

  it('GIVEN a DM (no workspace) while workspaces are listed THEN it is refused', () => {
    expect(checkPlace(listed, { platform: 'discord', userId: 'u', channelId: 'c1' })).toMatchObject({ allowed: false, code: 'workspace_not_allowed' });
  });

  it('GIVEN another channel THEN it is refused as such', () => {
    expect(checkPlace(listed, { platform: 'discord', userId: 'u', channelId: 'c2', workspaceId: 'g1' })).toMatchObject({ allowed: false, code: 'channel_not_allowed' });
  });

  it('GIVEN no allow-lists THEN every place is allowed', () => {
    expect(checkPlace(createModerationPolicy({ blocklist: [] }), { platform: 'slack', userId: 'u', channelId: 'x' })).toEqual({ allowed: true });
  });
});
