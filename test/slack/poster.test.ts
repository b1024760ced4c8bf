import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebClientEvent } from '@slack/web-api';
import { buildJobMessage } from '../../bot/message-model.ts';
import { DeliveryError } from '../../bot/poster.ts';
import { SlackPoster } from '../../bot/slack/poster.ts';
import { createSlackClient } from '../../bot/slack/web-client.ts';
import { RecordingSlackApi } from './support/recording-slack-api.ts';
import { resultOf, slackJob } from './support/fixtures.ts';
import { type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';

const fastRetries = { retries: 2, minTimeout: 0, maxTimeout: 1 };
let api: RecordingSlackApi;

beforeAll(async () => {
  api = await new RecordingSlackApi().start();
});
afterAll(() => api.stop());

let job: Job;
beforeEach(async () => {
  api.calls.length = 0;
  const placeholder = await createSlackClient('xoxb-test', { apiUrl: api.url }).chat.postMessage({ channel: 'C0001', text: 'placeholder' });
  job = slackJob({ messageTs: placeholder.ts! });
  api.calls.length = 0;
});

function posterWith(onRateLimit: 'wait' | 'reject', sleeps: number[] = []) {
  return new SlackPoster({
    client: createSlackClient('xoxb-test', { apiUrl: api.url, onRateLimit, retryConfig: fastRetries }),
    sleep: async (ms) => void sleeps.push(ms),
  });
}

const png = { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 250]), contentType: 'image/png', fileName: 'grid-jslack0001.png' };

describe('SlackPoster', () => {
  it('GIVEN progress THEN it edits the placeholder with chat.update and nothing else', async () => {
    await posterWith('reject').deliver(job, buildJobMessage(job, { phase: 'running', progress: { fraction: 0.3, stage: 'prior' }, updatedAt: 1 }));
    expect(api.calls.map((c) => c.method)).toEqual(['chat.update']);
    const message = api.messages.get(job.delivery.platform === 'slack' ? job.delivery.messageTs! : '')!;
    expect(message.text).toContain('Stage C · ▰▰▰▱▱▱▱▱▱▱ 30 %');
    expect(message.updates).toBe(1);
    expect(api.calls[0]!.authorization).toBe('Bearer xoxb-test');
  });

  it('GIVEN the final grid THEN it uploads with getUploadURLExternal → bytes → completeUploadExternal and shows that file in the message', async () => {
    await posterWith('reject').deliver(job, buildJobMessage(job, { phase: 'completed', result: resultOf(job), updatedAt: 2 }), png);
    expect(api.calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal', 'chat.update']);
    const [getUrl, upload, complete, update] = api.calls;
    expect(getUrl!.params).toMatchObject({ filename: 'grid-jslack0001.png', length: String(png.bytes.length), alt_text: job.request.prompt });
    expect([...upload!.bytes!]).toEqual([...png.bytes]);
    const fileId = upload!.params.fileId!;
    expect(JSON.parse(complete!.params.files!)).toEqual([{ id: fileId, title: 'grid-jslack0001.png' }]);
    expect(complete!.params.channel_id).toBeUndefined();
    const blocks = JSON.parse(update!.params.blocks!) as Array<{ type: string; slack_file?: { id: string } }>;
    expect(blocks.find((b) => b.type === 'image')?.slack_file).toEqual({ id: fileId });
    expect(blocks.filter((b) => b.type === 'actions')).toHaveLength(4);
    expect(api.uploads.get(fileId)?.completed).toBe(true);
  });

  it('GIVEN Slack is still processing the fresh file THEN the update is retried until the image is accepted', async () => {
    api.script('chat.update', { error: 'invalid_blocks', errors: ['invalid slack file [json-pointer:/blocks/3/slack_file]'] });
    const sleeps: number[] = [];
    await posterWith('reject', sleeps).deliver(job, buildJobMessage(job, { phase: 'completed', result: resultOf(job), updatedAt: 2 }), png);
    expect(api.callsOf('chat.update')).toHaveLength(2);
    expect(sleeps).toEqual([500]);
    expect((JSON.parse(api.callsOf('chat.update')[1]!.params.blocks!) as { type: string }[]).some((b) => b.type === 'image')).toBe(true);
  });

  it('GIVEN the file is never accepted inline THEN the message is updated without it and the image goes to the thread', async () => {
    const notReady = { error: 'invalid_blocks', errors: ['invalid slack file [json-pointer:/blocks/3/slack_file]'] };
    api.script('chat.update', notReady, notReady, notReady, notReady, notReady);
    await posterWith('reject').deliver(job, buildJobMessage(job, { phase: 'completed', result: resultOf(job), updatedAt: 2 }), png);
    const updates = api.callsOf('chat.update');
    expect(updates).toHaveLength(6);
    expect(updates[5]!.params.blocks).toContain('The image is in the thread below');
    const completes = api.callsOf('files.completeUploadExternal');
    expect(completes).toHaveLength(2);
    expect(completes[1]!.params).toMatchObject({ channel_id: 'C0001', thread_ts: job.delivery.platform === 'slack' ? job.delivery.messageTs : '' });
  });

  it('GIVEN a 429 with Retry-After THEN the rejecting client surfaces a retryable DeliveryError with retryAfterMs and sends nothing more', async () => {
    api.script('chat.update', { status: 429, retryAfterSeconds: 7 });
    const error = await posterWith('reject').deliver(job, buildJobMessage(job, { phase: 'queued', position: 1, updatedAt: 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    expect(api.callsOf('chat.update')).toHaveLength(1);
  });

  it('GIVEN a 429 with Retry-After: 1 THEN the waiting client pauses at least that long and then succeeds', async () => {
    api.script('chat.update', { status: 429, retryAfterSeconds: 1 });
    const client = createSlackClient('xoxb-test', { apiUrl: api.url, onRateLimit: 'wait', retryConfig: fastRetries });
    const rateLimited: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    await new SlackPoster({ client }).deliver(job, buildJobMessage(job, { phase: 'queued', position: 1, updatedAt: 1 }));
    const [first, second] = api.callsOf('chat.update');
    expect(rateLimited).toEqual([1]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it('GIVEN the message was deleted in Slack THEN the DeliveryError is not retryable and names the Slack error only', async () => {
    const gone = slackJob({ messageTs: '1.000999' });
    const error = await posterWith('reject').deliver(gone, buildJobMessage(gone, { phase: 'queued', updatedAt: 1 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, message: 'job jslack0001: Slack refused the update (message_not_found)' });
    expect(String((error as Error).message)).not.toContain('xoxb');
  });

  it('GIVEN Slack is unreachable THEN the DeliveryError is retryable', async () => {
    const client = createSlackClient('xoxb-test', { apiUrl: 'http://127.0.0.1:9/api/', onRateLimit: 'reject', retryConfig: { retries: 0 } });
    const error = await new SlackPoster({ client }).deliver(job, buildJobMessage(job, { phase: 'queued', updatedAt: 1 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true });
  });

  it('GIVEN previews THEN progress edits keep the shown preview, a newer preview or the result replaces it and the old file is deleted', async () => {
    const poster = posterWith('reject');
    const preview = (fraction: number) => buildJobMessage(job, { phase: 'running', progress: { fraction }, previewKey: jobKeys.preview(job.id), updatedAt: 1 });
    const imageOf = (i: number) => (JSON.parse(api.callsOf('chat.update')[i]!.params.blocks!) as Array<{ type: string; slack_file?: { id: string } }>).find((b) => b.type === 'image')?.slack_file?.id;

    await poster.deliver(job, preview(0.3), { ...png, fileName: 'preview-1.jpg' });
    await poster.deliver(job, preview(0.4));
    await poster.deliver(job, preview(0.6), { ...png, fileName: 'preview-2.jpg' });
    await poster.deliver(job, buildJobMessage(job, { phase: 'completed', result: resultOf(job), updatedAt: 2 }), png);

    const [first, second, final] = api.callsOf('upload').map((call) => call.params.fileId!);
    expect([imageOf(0), imageOf(1), imageOf(2), imageOf(3)]).toEqual([first, first, second, final]);
    expect(api.callsOf('files.delete').map((call) => call.params.file)).toEqual([first, second]);
    expect([first, second, final].map((id) => api.uploads.has(id!))).toEqual([false, false, true]);
  });

  it('GIVEN the owner deleted the job THEN the Slack message is deleted, and deleting again is harmless', async () => {
    const poster = posterWith('reject');
    const message = buildJobMessage(job, { phase: 'deleted', updatedAt: 3 });
    await poster.deliver(job, message);
    await poster.deliver(job, message);
    expect(api.callsOf('chat.delete')).toHaveLength(2);
    expect(api.messages.has(job.delivery.platform === 'slack' ? job.delivery.messageTs! : '')).toBe(false);
  });

  it('GIVEN a job without a Slack placeholder THEN it is refused without any API call', async () => {
    const orphan = slackJob();
    await expect(posterWith('reject').deliver(orphan, buildJobMessage(orphan, { phase: 'queued', updatedAt: 1 }))).rejects.toMatchObject({ retryable: false });
    expect(api.calls).toHaveLength(0);
  });
});
