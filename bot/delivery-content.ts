/**
 * What one delivery shows: the rendered message plus the image to attach, if any. The grid goes with
 * the final result (fitted to the platform's limit), unless the poster shows it by key; a preview is attached only when it is newer than
 * the one the message already shows (the preview key stays the same, the fraction grows).
 */
import type { Job } from '../core/job.ts';
import type { BlobStore } from '../core/ports.ts';
import { loadAttachment } from './attachment.ts';
import type { JobState } from './job-state.ts';
import { buildJobMessage, type JobMessage } from './message-model.ts';
import type { Attachment, Poster } from './poster.ts';

export interface DeliveryContent {
  message: JobMessage;
  attachment?: Attachment;
  /** `key@fraction` of the preview the message shows after this delivery. */
  previewVersion?: string;
}

export async function prepareDelivery(blobs: BlobStore, poster: Poster, job: Job, state: JobState, shownPreview: string | undefined): Promise<DeliveryContent> {
  const message = buildJobMessage(job, state);
  const limit = () => poster.attachmentLimitBytes(job);
  if (message.grid) {
    if (poster.showsGridByKey) return { message, ...(shownPreview ? { previewVersion: shownPreview } : {}) };
    const attachment = await loadAttachment(blobs, message.grid.key, message.grid.contentType, `grid-${job.id}`, limit());
    return { message, ...(attachment ? { attachment } : {}), ...(shownPreview ? { previewVersion: shownPreview } : {}) };
  }
  const previewVersion = message.previewKey ? `${message.previewKey}@${state.previewFraction}` : undefined;
  if (message.previewKey && previewVersion !== shownPreview) {
    const attachment = await loadAttachment(blobs, message.previewKey, 'image/jpeg', `preview-${job.id}`, limit());
    return { message, ...(attachment ? { attachment } : {}), ...(previewVersion ? { previewVersion } : {}) };
  }
  return { message, ...(shownPreview ? { previewVersion: shownPreview } : {}) };
}
