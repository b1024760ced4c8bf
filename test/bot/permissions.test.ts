import { describe, expect, it } from 'vitest';
import { BUTTON_ACTIONS, type ButtonAction } from '../../bot/custom-id.ts';
import { mayPress } from '../../bot/permissions.ts';
import type { ButtonPolicy } from '../../bot/settings.ts';
import { alice, bob, makeJob } from './support/fixtures.ts';

const job = makeJob();
const aliceOnSlack = { ...alice, platform: 'slack' as const };

/** action → [owner, other user with 'requester', other user with 'everyone'] */
const TABLE: Record<ButtonAction, [boolean, boolean, boolean]> = {
  upscale: [true, false, true],
  vary_subtle: [true, false, true],
  vary_strong: [true, false, true],
  remix: [true, false, true],
  more: [true, false, true],
  reroll: [true, false, true],
  info: [true, true, true],
  delete: [true, false, false],
  cancel: [true, false, false],
  // the board's roles decide these (test/boards/)
  pin: [true, true, true],
  vote: [true, true, true],
  hero: [true, true, true],
  unpin: [true, true, true],
};

describe('who may press which button', () => {
  it.each(BUTTON_ACTIONS.map((action) => [action, ...TABLE[action]] as const))('%s: owner %s, others (requester-only) %s, others (everyone) %s', (action, owner, otherRequester, otherEveryone) => {
    const check = (actor: typeof alice, policy: ButtonPolicy) => mayPress(action, actor, job, policy).allowed;
    expect(check(alice, 'requester')).toBe(owner);
    expect(check(bob, 'requester')).toBe(otherRequester);
    expect(check(bob, 'everyone')).toBe(otherEveryone);
  });

  it('GIVEN the same user id on another platform THEN it is not the owner', () => {
    expect(mayPress('delete', aliceOnSlack, job, 'everyone').allowed).toBe(false);
  });

  it('GIVEN a refusal THEN the message says who may press', () => {
    expect(mayPress('delete', bob, job, 'everyone')).toEqual({ allowed: false, message: 'Only the person who asked for this image can delete it.' });
  });
});
