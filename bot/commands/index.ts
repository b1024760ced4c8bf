/** The platform-neutral command handlers every front end calls. */
export type * from './context.js';
export { imagine, applyDefaults, type WeightedPicture } from './imagine.js';
export { blend, BLEND_SHAPES, isBlendShape, type BlendShape } from './blend.js';
export { pressButton } from './press-button.js';
export { jobInfo } from './job-info.js';
export { cancel } from './cancel.js';
export { show } from './show.js';
export { usage } from './usage.js';
export { settings, parseDefaults, type SettingsInput } from './settings.js';
export { help, COMMAND_HELP, type CommandHelp } from './help.js';
