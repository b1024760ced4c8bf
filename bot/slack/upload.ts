/**
 * Image upload with Slack's external-upload flow (`files.upload` is retired): files.getUploadURLExternal
 * (filename, length, alt text) → POST the bytes to the returned upload_url → files.completeUploadExternal.
 * `filesUploadV2` of @slack/web-api runs exactly these three calls, through the client's retry policy.
 *
 * The file is completed without a channel, so it is not posted as a message of its own; the job's
 * message shows it with an image block (`slack_file: { id }`). Slack processes uploads
 * asynchronously, so the first message update that references a fresh file can be refused with
 * `invalid_blocks` ("invalid slack file"); the poster retries that case (see poster.ts).
 *
 * @example
 *   const fileId = await uploadImage(client, { bytes, contentType: 'image/png', fileName: 'grid-j12.png' }, 'a lighthouse at dusk');
 *   // → 'F07ABCDEF12'
 */
import type { WebClient } from '@slack/web-api';
import type { Attachment } from '../poster.ts';
import { CodedError } from '../../core/errors.ts';

export class SlackUploadError extends CodedError<'slack_upload_failed'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('slack_upload_failed', message, {}, options);
  }
}

const ALT_TEXT_MAX = 1000;

export async function uploadImage(client: WebClient, attachment: Attachment, altText: string): Promise<string> {
  const result = await client.filesUploadV2({
    file: Buffer.from(attachment.bytes.buffer, attachment.bytes.byteOffset, attachment.bytes.byteLength),
    filename: attachment.fileName,
    title: attachment.fileName,
    alt_text: altText.slice(0, ALT_TEXT_MAX),
  });
  // filesUploadV2 answers one completion per completeUploadExternal call, each listing its files.
  const completions = (result.files ?? []) as Array<{ files?: Array<{ id?: string }> }>;
  const fileId = completions.flatMap((completion) => completion.files ?? []).find((file) => typeof file.id === 'string')?.id;
  if (!fileId) throw new SlackUploadError(`Slack accepted the upload of ${attachment.fileName} but returned no file id`);
  return fileId;
}
