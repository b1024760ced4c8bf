/** The platform-neutral command handlers every front end calls. */
export type * from './context.ts';
export { imagine, applyDefaults, type WeightedPicture } from './imagine.ts';
export { blend, BLEND_SHAPES, isBlendShape, type BlendShape } from './blend.ts';
export { pressButton } from './press-button.ts';
export { jobInfo } from './job-info.ts';
export { cancel } from './cancel.ts';
export { show } from './show.ts';
export { usage } from './usage.ts';
export { settings, parseDefaults, type SettingsInput } from './settings.ts';
export { help, COMMAND_HELP, type CommandHelp } from './help.ts';
