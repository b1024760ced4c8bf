/**
 * Signed-but-malformed Discord interactions: shapes a buggy or hostile sender could put under a valid
 * Ed25519 signature. Shared by test/adversarial/discord-requests.test.ts and bench/adversarial-chat.ts.
 */
import { buttonPress, modalSubmit, ping, slashCommand } from '../../discord/support/signed-interactions.ts';

export interface HostileInteraction {
  name: string;
  body: string;
}

const MESSAGE_ID = '1220000000000000001';
const JOB = 'j0123456789abcdef0123456789abcdef';

function mutate<T extends Record<string, unknown>>(payload: T, change: (copy: Record<string, unknown>) => void): string {
  const copy = structuredClone(payload) as Record<string, unknown>;
  change(copy);
  return JSON.stringify(copy);
}

const json = (name: string, body: string): HostileInteraction => ({ name, body });

/** Every body here is signed correctly and must be answered 2xx/4xx with nothing enqueued. */
export function malformedInteractions(): HostileInteraction[] {
  const imagine = () => slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a fox' }]);
  const press = () => buttonPress(`upscale:${JOB}:1`, MESSAGE_ID);
  return [
    json('a body that is null', 'null'),
    json('a body that is an array', '[]'),
    json('a body that is a string', '"interaction"'),
    json('a body that is a number', '2'),
    json('a body that is not JSON', '{"type": 2, '),
    json('an empty object', '{}'),
    json('an unknown interaction type', mutate(ping(), (p) => { p.type = 99; })),
    json('a type that is a string', mutate(imagine(), (p) => { p.type = '2'; })),
    json('a command without data', mutate(imagine(), (p) => { delete p.data; })),
    json('a command whose data is null', mutate(imagine(), (p) => { p.data = null; })),
    json('an unknown command', JSON.stringify(slashCommand('rm-rf', [{ name: 'prompt', type: 3, value: 'x' }]))),
    json('a command whose options is not a list', mutate(imagine(), (p) => { (p.data as Record<string, unknown>).options = { prompt: 'x' }; })),
    json('a command whose option value is an object', JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: { evil: true } as unknown as string }]))),
    json('a command whose prompt is a list', JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: ['a', 'fox'] as unknown as string }]))),
    json('a command whose prompt is 100 000 characters', JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: `a ${'x'.repeat(100_000)}` }]))),
    json('a command whose cfg is 100 000 digits and a letter', JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: `a fox --cfg ${'1'.repeat(100_000)}a` }]))),
    json('a command without member or user', mutate(imagine(), (p) => { delete p.member; delete p.user; })),
    json('a command whose member is null', mutate(imagine(), (p) => { p.member = null; })),
    json('a command whose member has no user', mutate(imagine(), (p) => { p.member = { permissions: '0' }; })),
    json('a command whose user id is not a snowflake', mutate(imagine(), (p) => { p.member = { user: { id: '../../etc/passwd' }, permissions: '0' }; })),
    json('a command without a channel', mutate(imagine(), (p) => { delete p.channel_id; delete p.channel; })),
    json('a command whose channel is a string', mutate(imagine(), (p) => { p.channel = 'C1'; })),
    json('a command without a token', mutate(imagine(), (p) => { delete p.token; })),
    json('a command without an id', mutate(imagine(), (p) => { delete p.id; })),
    json('a command whose id is an object', mutate(imagine(), (p) => { p.id = { $gt: '' }; })),
    json('a command whose guild id is a number', mutate(imagine(), (p) => { p.guild_id = 12; })),
    json('a button without data', mutate(press(), (p) => { delete p.data; })),
    json('a button without custom_id', mutate(press(), (p) => { p.data = { component_type: 2 }; })),
    json('a button whose custom_id is 10 000 characters', JSON.stringify(buttonPress(`upscale:${'a'.repeat(10_000)}:1`, MESSAGE_ID))),
    json('a button with a forged custom_id', JSON.stringify(buttonPress('upscale:../../secrets:1', MESSAGE_ID))),
    json('a button naming a tile that does not exist', JSON.stringify(buttonPress(`upscale:${JOB}:9`, MESSAGE_ID))),
    json('a button of a job that does not exist', JSON.stringify(press())),
    json('a button without a message', mutate(press(), (p) => { delete p.message; })),
    json('a modal without components', mutate(modalSubmit(`remix:${JOB}:1`, { prompt: 'x' }, MESSAGE_ID), (p) => { (p.data as Record<string, unknown>).components = undefined; })),
    json('a modal whose components are not rows', mutate(modalSubmit(`remix:${JOB}:1`, { prompt: 'x' }, MESSAGE_ID), (p) => { (p.data as Record<string, unknown>).components = [null, 'x', 3]; })),
    json('a modal with an unknown custom_id', JSON.stringify(modalSubmit('nope', { prompt: 'x' }, MESSAGE_ID))),
    json('a modal for a job that does not exist', JSON.stringify(modalSubmit(`remix:${JOB}:1`, { prompt: 'a new fox' }, MESSAGE_ID))),
    json('an autocomplete without options', mutate(slashCommand('imagine', []), (p) => { p.type = 4; })),
    json('an autocomplete whose focused value is an object', mutate(slashCommand('imagine', [{ name: 'ar', type: 3, value: 'x' }]), (p) => { p.type = 4; ((p.data as { options: Array<Record<string, unknown>> }).options[0]!).value = { a: 1 }; ((p.data as { options: Array<Record<string, unknown>> }).options[0]!).focused = true; })),
    json('a deeply nested body', `${'['.repeat(5000)}${']'.repeat(5000)}`),
  ];
}
