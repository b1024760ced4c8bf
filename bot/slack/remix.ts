/**
 * Remix on Slack: an R1–R4 press opens a dialog (views.open) for the new prompt; its submission is
 * then handled like any job-making button press (placeholder, then `pressButton` with the text), in
 * the channel and thread of the pressed message. Discord's counterpart is its Remix modal.
 *
 * The dialog carries that origin in `private_metadata`: Slack stores it and returns it with the signed
 * submission, and it is parsed again (zod) like any payload.
 */
import type { types } from '@slack/bolt';
import { parsePayload, RemixOriginSchema, RemixSubmissionSchema, remixSubmissionContext, type RemixOrigin } from './payloads.ts';
import type { CommandContext } from '../commands/context.ts';

export const REMIX_CALLBACK_ID = 'remix';
/** block_id and action_id of the prompt input (the submission is read at values.prompt.prompt). */
const PROMPT_INPUT = 'prompt';

/** The dialog for tile `index` of the pressed message. */
export function remixView(origin: RemixOrigin, index: number): types.ModalView {
  return {
    type: 'modal',
    callback_id: REMIX_CALLBACK_ID,
    private_metadata: JSON.stringify(origin),
    title: { type: 'plain_text', text: `Remix image ${index}` },
    submit: { type: 'plain_text', text: 'Remix' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: PROMPT_INPUT,
        label: { type: 'plain_text', text: 'New prompt (--options allowed)' },
        element: {
          type: 'plain_text_input',
          action_id: PROMPT_INPUT,
          multiline: true,
          max_length: 2000,
          placeholder: { type: 'plain_text', text: 'a lighthouse at dawn --ar 16:9' },
        },
      },
    ],
  };
}

export interface RemixSubmission {
  ctx: CommandContext;
  /** The pressed button's id (remix:jobId:index). */
  customId: string;
  text: string;
}

/** A signed view_submission body → who remixes which tile, with what text, and where the result goes. */
export function parseRemixSubmission(body: unknown): RemixSubmission {
  const payload = parsePayload(RemixSubmissionSchema, 'remix dialog submission', body);
  let metadata: unknown;
  try {
    metadata = JSON.parse(payload.view.private_metadata);
  } catch {
    metadata = undefined;
  }
  const origin = parsePayload(RemixOriginSchema, 'remix dialog metadata', metadata);
  return { ctx: remixSubmissionContext(payload, origin), customId: origin.customId, text: (payload.view.state.values.prompt.prompt.value ?? '').trim() };
}
