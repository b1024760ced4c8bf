/**
 * Pictures given to the bot on Slack, as image prompts (or the start image with `--strength`): the files attached to an
 * `@cascade …` message, Slack file links in the text of `/imagine` or of a mention (a file's permalink
 * `https://team.slack.com/files/U…/F…/name.png` or its `https://files.slack.com/files-pri/T…-F…/…` URL), and, for a
 * mention in a thread that has none of its own but asks for one (`wantsThreadPictures`), the pictures of the thread's
 * newest message that has any.
 *
 * Every file is looked up with `files.info` (its size, type, owner and where it is shared; the bot needs `files:read`),
 * then downloaded from files.slack.com only (`fetchPlatformFile` in bot/uploads.ts: no other host, no redirect, byte
 * cap, timeout) with the bot token in the Authorization header, which goes nowhere else and is never logged or shown.
 * A linked file must be the requester's own or shared in this conversation: the bot can read files from every channel
 * it is in, and a link must not let someone use a picture from a channel they cannot see.
 * Files attached to the mention itself are the requester's by construction (Slack signed the event).
 * Declared sizes and types are checked before any download; the bytes are then sniffed and normalised by the common
 * path (bot/uploads.ts `checkUpload`), so a declared type is never trusted.
 *
 * @example
 *   const found = slackFileLinks('a fox <https://acme.slack.com/files/U1/F0ABCDEF12/fox.png> --iw 2');
 *   // → { text: 'a fox --iw 2', fileIds: ['F0ABCDEF12'] }
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Rejected } from '../commands/context.ts';
import { rejected } from '../commands/enqueue.ts';
import { fetchPlatformFile, slackFiles, UPLOAD_LIMITS, UploadError, type FileSource } from '../uploads.ts';
import { platformErrorOf } from './poster.ts';

const FILE_ID = /^F[A-Z0-9]{6,31}$/;
/** A file's permalink (`/files/U…/F…/…`) or private URL (`/files-pri/T…-F…/…`) on a Slack host. */
const FILE_PATH = /^\/(?:files\/[A-Z0-9]+\/(F[A-Z0-9]{6,31})(?:\/|$)|files-pri\/[A-Z0-9]+-(F[A-Z0-9]{6,31})(?:\/|$))/;
/** Slack sends links as `<url>` or `<url|label>` (escaped commands, messages); typed plainly they are bare words. */
const LINK = /<(https:\/\/[^|>\s]+)(?:\|[^>]*)?>|(?<![<\w])(https:\/\/\S+)/g;

/** A file as the app_mention event carries it. */
export const EventFileSchema = z.object({
  id: z.string().regex(FILE_ID, 'must be a Slack file id such as F0123ABCD'),
  name: z.string().max(255).optional(),
  mimetype: z.string().max(255).optional(),
  size: z.number().nonnegative().optional(),
});
export type EventFile = z.infer<typeof EventFileSchema>;

/** The fields of files.info's `file` that the bot reads. */
const FileInfoSchema = z.object({
  id: z.string().regex(FILE_ID),
  name: z.string().max(255).optional(),
  mimetype: z.string().max(255).optional(),
  size: z.number().nonnegative().optional(),
  user: z.string().max(32).optional(),
  url_private: z.string().max(2000).optional(),
  url_private_download: z.string().max(2000).optional(),
  channels: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  ims: z.array(z.string()).optional(),
  shares: z.object({ public: z.record(z.string(), z.unknown()).optional(), private: z.record(z.string(), z.unknown()).optional() }).optional(),
});
type FileInfo = z.infer<typeof FileInfoSchema>;

function isSlackHost(hostname: string): boolean {
  return hostname === 'slack.com' || hostname.endsWith('.slack.com');
}

/** The Slack file links in `text` (taken out of it) and the text without them. Other links stay prompt text. */
export function slackFileLinks(text: string): { text: string; fileIds: string[] } {
  const fileIds: string[] = [];
  const rest = text.replace(LINK, (whole, bracketed: string | undefined, bare: string | undefined) => {
    let url: URL;
    try {
      url = new URL(bracketed ?? bare ?? '');
    } catch {
      return whole;
    }
    const match = isSlackHost(url.hostname) ? FILE_PATH.exec(url.pathname) : null;
    const id = match?.[1] ?? match?.[2];
    if (!id) return whole;
    if (!fileIds.includes(id)) fileIds.push(id);
    return ' ';
  });
  return { text: rest.replace(/\s+/g, ' ').trim(), fileIds };
}

/** How many of a thread's newest messages are looked at for pictures (one conversations.replies page). */
const THREAD_LOOKBACK = 50;

/**
 * Whether an @mention with no picture of its own asks for the thread's: it has no prompt of its own (only options), or
 * it weighs or starts from a picture (`--iw`, `--strength`). A plain text prompt in a thread stays a text prompt.
 */
export function wantsThreadPictures(prompt: string): boolean {
  return prompt.trim() === '' || /^\s*[-—–]/.test(prompt) || /(^|\s)(--|—|–)(strength|iw)(\s|$)/i.test(prompt);
}

/**
 * The picture files of the newest message in the thread before `beforeTs` that has any (conversations.replies; the
 * app needs channels:history / groups:history). Empty when there is none, or the app may not read the thread.
 */
export async function threadPictureFiles(client: WebClient, channel: string, threadTs: string, beforeTs: string): Promise<EventFile[]> {
  let messages: unknown;
  try {
    messages = (await client.conversations.replies({ channel, ts: threadTs, limit: THREAD_LOOKBACK })).messages;
  } catch (error) {
    if (platformErrorOf(error) !== undefined) return [];
    throw error;
  }
  const parsed = z.array(z.object({ ts: z.string().max(32), files: z.array(EventFileSchema.loose()).max(20).optional() }).loose()).max(1000).safeParse(messages ?? []);
  if (!parsed.success) return [];
  const earlier = parsed.data.filter((message) => Number(message.ts) < Number(beforeTs)).sort((a, b) => Number(b.ts) - Number(a.ts));
  for (const message of earlier) {
    const pictures = (message.files ?? []).filter((file) => file.mimetype === undefined || file.mimetype.startsWith('image/'));
    if (pictures.length) return pictures.slice(0, UPLOAD_LIMITS.maxFiles).map((file) => ({ id: file.id }));
  }
  return [];
}

/** What a request names: files attached to its message, and file ids from links in its text. */
export interface SlackPictureRequest {
  attached: readonly EventFile[];
  linked: readonly string[];
}

export function pictureCount(request: SlackPictureRequest): number {
  return request.attached.length + request.linked.length;
}

/** Who asks, and where: a linked file must be theirs or shared here. */
export interface SlackPictureAsker {
  userId: string;
  channelId: string;
}

export interface SlackFileDeps {
  client: WebClient;
  /** The bot token (Bolt's `context.botToken`): sent to files.slack.com only. */
  botToken: string;
  /** Tests: serve "files.slack.com" from 127.0.0.1 (the token header is still the bot token). */
  hosts?: Pick<FileSource, 'hosts' | 'allowInsecureLoopback'>;
}

/**
 * The bytes of the request's pictures, attached ones first, or the refusal that names the file and what is wrong.
 * Every check that needs no download runs for all files before the first download.
 */
export async function fetchSlackPictures(deps: SlackFileDeps, asker: SlackPictureAsker, request: SlackPictureRequest): Promise<Uint8Array[] | Rejected> {
  const count = pictureCount(request);
  if (count > UPLOAD_LIMITS.maxFiles) return rejected('bad_upload', `${count} pictures were given; at most ${UPLOAD_LIMITS.maxFiles} are used with one request.`);
  const source: FileSource = { ...slackFiles(deps.botToken), ...deps.hosts };
  try {
    const infos: FileInfo[] = [];
    for (const file of request.attached) infos.push(await fileInfo(deps.client, file.id, 'attached'));
    for (const id of request.linked) {
      const info = await fileInfo(deps.client, id, 'linked');
      if (!mayUse(info, asker)) {
        throw new UploadError('not_allowed_url', `The linked file ${describe(info)} is neither yours nor shared in this conversation, so it is not used. Share it here first, or attach it to your message.`);
      }
      infos.push(info);
    }
    for (const info of infos) precheck(info);
    const out: Uint8Array[] = [];
    for (const info of infos) out.push(await fetchPlatformFile(info.url_private_download ?? info.url_private ?? '', source));
    return out;
  } catch (error) {
    if (error instanceof UploadError) return rejected(error.code, error.message);
    throw error;
  }
}

async function fileInfo(client: WebClient, id: string, how: 'attached' | 'linked'): Promise<FileInfo> {
  let answer: unknown;
  try {
    answer = (await client.files.info({ file: id })).file;
  } catch (error) {
    const code = platformErrorOf(error);
    if (code === 'file_not_found' || code === 'file_deleted') throw new UploadError('download_failed', `The ${how} file ${id} is not there any more (deleted, or the app cannot see it).`);
    if (code === 'missing_scope' || code === 'not_allowed_token_type') throw new UploadError('download_failed', 'This Slack app may not read files (it lacks the files:read scope); ask an admin to reinstall it from the manifest.');
    throw error;
  }
  const parsed = FileInfoSchema.safeParse(answer);
  if (!parsed.success) throw new UploadError('download_failed', `Slack described the ${how} file ${id} in a way this bot does not read; attach the picture again.`);
  return parsed.data;
}

/** The requester's own file, or one shared in the conversation the request came from. */
function mayUse(info: FileInfo, asker: SlackPictureAsker): boolean {
  if (info.user === asker.userId) return true;
  const listed = [...(info.channels ?? []), ...(info.groups ?? []), ...(info.ims ?? [])];
  return listed.includes(asker.channelId) || Object.hasOwn(info.shares?.public ?? {}, asker.channelId) || Object.hasOwn(info.shares?.private ?? {}, asker.channelId);
}

/** What Slack declares, checked before any download (the bytes are still sniffed afterwards). */
function precheck(info: FileInfo): void {
  if (info.size !== undefined && info.size > UPLOAD_LIMITS.maxBytes) {
    throw new UploadError('too_large', `${describe(info)} is ${(info.size / 1048576).toFixed(1)} MiB; pictures up to ${UPLOAD_LIMITS.maxBytes / 1048576} MiB are used.`);
  }
  if (info.mimetype !== undefined && !info.mimetype.startsWith('image/')) {
    throw new UploadError('not_an_image', `${describe(info)} is not a picture (${info.mimetype.slice(0, 60)}). Send a still PNG, JPEG or WebP picture.`);
  }
  if (!info.url_private_download && !info.url_private) throw new UploadError('download_failed', `Slack gave no download address for ${describe(info)}; attach it again.`);
}

function describe(info: FileInfo): string {
  return info.name ? `"${info.name.slice(0, 60)}"` : info.id;
}
