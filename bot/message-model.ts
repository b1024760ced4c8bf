/**
 * Job → platform-neutral message. A PURE function: the same job and state always give the same
 * `JobMessage`, so renderers (Discord components, Slack Block Kit, web JSON) can be tested as
 * tables and a duplicate event re-renders the identical message.
 *
 * Text carries no platform markup; `requester` and `parent` are structured so each renderer can
 * write a mention (<@id>) or a link its own way. Buttons carry custom ids from `custom-id.ts`.
 *
 * Button layout when a grid of four is done (Discord: ≤ 5 rows of ≤ 5 buttons; Slack: ≤ 25 per actions block):
 *   row 'upscale':     U1 U2 U3 U4 🔄
 *   row 'vary_subtle': V1 V2 V3 V4 ℹ️
 *   row 'vary_strong': V1+ V2+ V3+ V4+ 🗑️     (strong variations)
 *   row 'remix':       R1 R2 R3 R4            (a strong variation with a new prompt; only where the
 *                                             platform opens a text dialog for it: Discord, Slack)
 *   row 'board':       📌1 📌2 📌3 📌4        (only for a job made in a mood board: pin a tile to it)
 *   row 'more':        🧬1 🧬2 🧬3 🧬4        ("More like this": four new images with the tile as the image
 *                                             prompt; only when the model reads images, see `imagePrompts`,
 *                                             and not in a board, whose 📌 row takes Discord's fifth row)
 * A single image (an upscale) gets one row: Vary (subtle), Vary (strong), ℹ️, 🗑️ (and 📌 in a board).
 * While queued or running: one row with ❌ Cancel. Failed or cancelled: 🔄 (try again), ℹ️, 🗑️.
 *
 * @example
 *   buildJobMessage(job, { phase: 'queued', position: 2, updatedAt: 0 }).statusLine // → 'Queued · position 2'
 */
import type { GenerationRequest, Job, ParentRef, Platform, Requester, Result, StageName } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { encodeButtonId, type ButtonAction } from './custom-id.ts';
import type { JobPhase, JobState } from './job-state.ts';
import { truncate } from '../core/truncate.ts';

export type ButtonStyle = 'primary' | 'secondary' | 'danger';

export interface MessageButton {
  action: ButtonAction;
  /** 1–4 for tile actions, 0 for job actions. */
  index: number;
  customId: string;
  /** Short text such as 'U1', 'V2', 'V3+'; empty when the emoji says it all. */
  label: string;
  emoji?: string;
  style: ButtonStyle;
  disabled: boolean;
}

export type ButtonRowKind = 'upscale' | 'vary_subtle' | 'vary_strong' | 'remix' | 'board' | 'more' | 'single' | 'pending' | 'failed';

export interface ButtonRow {
  kind: ButtonRowKind;
  buttons: MessageButton[];
}

/** What a message shows; `waking` is `queued` while no GPU runner is up. */
export type MessageStatus = JobPhase | 'waking';

export interface JobMessage {
  jobId: string;
  status: MessageStatus;
  /** True for completed/failed/cancelled/deleted: nothing will change it again (except a delete). */
  final: boolean;
  /** The prompt, shortened to fit any platform's title (≤ 200 chars). */
  title: string;
  /** One line on where the job stands: 'Queued · position 3', 'GPU waking up…', 'Stage C · 45 %', 'Done', 'Failed: …'. */
  statusLine: string;
  /** Plain-text detail lines: options, lineage, failure reason. No markup. */
  lines: string[];
  /** Options as the user would type them again, e.g. '--ar 3:2 --seed 42 --chaos 10'. */
  optionsText: string;
  requester: Requester;
  /** Lineage: the job and tile this one came from, with a human label ('Upscale of tile 2'). */
  parent?: ParentRef & { label: string };
  progress?: { fraction: number; stage?: StageName; /** '▰▰▰▱▱▱▱▱▱▱ 30 %' */ bar: string };
  /** 1-based place in the queue while queued or waking, when known (the web page estimates a wait from it). */
  position?: number;
  previewKey?: string;
  grid?: Result['grid'];
  buttonRows: ButtonRow[];
  /** Whole message as plain text (Slack `text` fallback, notifications, logs without secrets). */
  text: string;
}

const STAGE_LABEL: Record<StageName, string> = { text: 'Reading the prompt', prior: 'Stage C', decoder: 'Stage B', vqgan: 'Stage A' };

export function buildJobMessage(job: Job, state: JobState): JobMessage {
  const status: MessageStatus = state.phase === 'queued' && state.waking ? 'waking' : state.phase;
  const final = status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'deleted';
  const parent = job.parent ? { ...job.parent, label: lineageLabel(job) } : undefined;
  const progress = state.phase === 'running' && state.progress ? progressOf(state.progress) : undefined;
  const optionsText = describeOptions(job.request);
  const lines = [optionsText];
  if (parent) lines.push(`${parent.label} of job ${parent.jobId}`);
  const pictures = describePictures(job.request);
  if (pictures) lines.push(`From pictures: ${pictures}`);
  if (state.failure && (state.phase === 'failed' || state.failure.willRetry)) lines.push(state.failure.reason);
  if (status === 'completed') lines.push(...(state.result?.notes ?? []));
  const statusLine = statusLineOf(status, state, progress?.bar);
  const title = shorten(job.request.prompt, 200);
  const message: JobMessage = {
    jobId: job.id,
    status,
    final,
    title,
    statusLine,
    ...((status === 'queued' || status === 'waking') && state.position !== undefined ? { position: state.position } : {}),
    lines,
    optionsText,
    requester: job.requester,
    ...(parent ? { parent } : {}),
    ...(progress ? { progress } : {}),
    ...(state.previewKey && !state.result ? { previewKey: state.previewKey } : {}),
    ...(state.result?.grid && status === 'completed' ? { grid: state.result.grid } : {}),
    buttonRows: buttonRowsOf(job, status, state.result),
    text: [title, statusLine, ...lines].join('\n'),
  };
  return message;
}

function statusLineOf(status: MessageStatus, state: JobState, bar: string | undefined): string {
  switch (status) {
    case 'queued':
      return state.position === undefined ? 'Queued' : `Queued · position ${state.position}`;
    case 'waking': {
      const why = state.fleetProblem ?? 'GPU waking up…';
      return state.position === undefined ? why : `Queued · position ${state.position} · ${why}`;
    }
    case 'running': {
      const retry = (state.attempt ?? 1) > 1 || state.failure?.willRetry ? ' (retrying on another GPU)' : '';
      const stage = state.progress?.stage ? `${STAGE_LABEL[state.progress.stage]} · ` : '';
      return bar ? `${stage}${bar}${retry}` : `Starting…${retry}`;
    }
    case 'completed':
      return 'Done';
    case 'failed':
      return `Failed: ${state.failure?.reason ?? 'unknown error'}`;
    case 'cancelled':
      return 'Cancelled';
    case 'deleted':
      return 'Deleted by its owner';
  }
}

function progressOf(progress: { fraction: number; stage?: StageName }): NonNullable<JobMessage['progress']> {
  const fraction = Math.min(1, Math.max(0, progress.fraction));
  const filled = Math.round(fraction * 10);
  const bar = `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)} ${Math.round(fraction * 100)} %`;
  return progress.stage === undefined ? { fraction, bar } : { fraction, stage: progress.stage, bar };
}

function lineageLabel(job: Job): string {
  const tile = job.parent ? ` ${job.parent.index}` : '';
  switch (job.kind) {
    case 'upscale':
      return `Upscale of tile${tile}`;
    case 'variation':
      return `${job.strength === 'strong' ? 'Strong' : 'Subtle'} variation of tile${tile}`;
    case 'imagine':
      return job.parent && job.request.imagePrompts?.some((p) => p.key === jobKeys.image(job.parent!.jobId, job.parent!.index)) ? `More like tile${tile}` : 'Reroll';
  }
}

/** Options in `/imagine` syntax so a user can copy them. */
export function describeOptions(request: GenerationRequest): string {
  const parts = [`--ar ${request.aspect.w}:${request.aspect.h}`, `--seed ${request.seed}`];
  if (request.size !== 'medium') parts.push(`--size ${request.size}`);
  if (request.negativePrompt) parts.push(`--no ${request.negativePrompt}`);
  if (request.steps !== undefined) parts.push(`--steps ${request.steps}`);
  if (request.cfg !== undefined) parts.push(`--cfg ${request.cfg}`);
  if (request.chaos !== 0) parts.push(`--chaos ${request.chaos}`);
  if (request.style !== undefined) parts.push(`--style ${request.style}`);
  if (request.lite) parts.push('--lite');
  if (request.imageWeight !== undefined) parts.push(`--iw ${request.imageWeight}`);
  if (request.imageStrength !== undefined) parts.push(`--strength ${request.imageStrength}`);
  return parts.join(' ');
}

/** Each picture's setting in request order (the start image first, as `--strength` takes the first picture). */
export function pictureSettings(request: GenerationRequest): Array<{ key: string; setting: string }> {
  return [
    ...(request.initImage ? [{ key: request.initImage.key, setting: `start image, strength ${request.initImage.strength}` }] : []),
    ...(request.imagePrompts ?? []).map((p) => ({ key: p.key, setting: `image prompt, weight ${p.weight}` })),
  ];
}

/** The pictures a job was made from, numbered: "1 start image, strength 0.6 · 2 image prompt, weight 0.5"; undefined without. */
export function describePictures(request: GenerationRequest): string | undefined {
  const settings = pictureSettings(request);
  return settings.length ? settings.map((p, i) => `${i + 1} ${p.setting}`).join(' · ') : undefined;
}

function shorten(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), max);
}

function button(jobId: string, action: ButtonAction, index: number, label: string, style: ButtonStyle, emoji?: string): MessageButton {
  const customId = encodeButtonId({ action, jobId, index } as Parameters<typeof encodeButtonId>[0]);
  return { action, index, customId, label, style, disabled: false, ...(emoji ? { emoji } : {}) };
}

/** Where a Remix press opens a dialog for the new prompt (Discord: a modal; Slack: views.open; web: a <dialog>). */
const REMIX_DIALOG_PLATFORMS: ReadonlySet<Platform> = new Set(['discord', 'slack', 'web']);

function buttonRowsOf(job: Job, status: MessageStatus, result: Result | undefined): ButtonRow[] {
  const id = job.id;
  if (status === 'queued' || status === 'waking' || status === 'running') {
    return [{ kind: 'pending', buttons: [button(id, 'cancel', 0, 'Cancel', 'secondary', '❌')] }];
  }
  if (status === 'failed' || status === 'cancelled') {
    return [{ kind: 'failed', buttons: [button(id, 'reroll', 0, 'Try again', 'primary', '🔄'), button(id, 'info', 0, '', 'secondary', 'ℹ️'), button(id, 'delete', 0, '', 'danger', '🗑️')] }];
  }
  if (status !== 'completed' || !result) return [];
  const tiles = result.images.map((image) => image.index).sort((a, b) => a - b);
  if (tiles.length === 1) {
    const tile = tiles[0]!;
    return [{
      kind: 'single',
      buttons: [
        button(id, 'vary_subtle', tile, 'Vary (subtle)', 'secondary'),
        button(id, 'vary_strong', tile, 'Vary (strong)', 'secondary'),
        button(id, 'info', 0, '', 'secondary', 'ℹ️'),
        button(id, 'delete', 0, '', 'danger', '🗑️'),
        ...(job.boardId ? [button(id, 'pin', tile, 'Pin', 'secondary', '📌')] : []),
      ],
    }];
  }
  return [
    { kind: 'upscale', buttons: [...tiles.map((t) => button(id, 'upscale', t, `U${t}`, 'secondary')), button(id, 'reroll', 0, '', 'primary', '🔄')] },
    { kind: 'vary_subtle', buttons: [...tiles.map((t) => button(id, 'vary_subtle', t, `V${t}`, 'secondary')), button(id, 'info', 0, '', 'secondary', 'ℹ️')] },
    { kind: 'vary_strong', buttons: [...tiles.map((t) => button(id, 'vary_strong', t, `V${t}+`, 'secondary')), button(id, 'delete', 0, '', 'danger', '🗑️')] },
    ...(REMIX_DIALOG_PLATFORMS.has(job.delivery.platform) ? [{ kind: 'remix' as const, buttons: tiles.map((t) => button(id, 'remix', t, `R${t}`, 'secondary')) }] : []),
    // A grid made in a mood board: 📌 per tile, in Discord's free fifth row; otherwise 🧬 there, when the model reads images.
    ...(job.boardId ? [{ kind: 'board' as const, buttons: tiles.map((t) => button(id, 'pin', t, `${t}`, 'secondary', '📌')) }] : []),
    ...(!job.boardId && result.model.imagePrompts ? [{ kind: 'more' as const, buttons: tiles.map((t) => button(id, 'more', t, `${t}`, 'secondary', '🧬')) }] : []),
  ];
}
