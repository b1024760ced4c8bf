/**
 * Every object key in the bucket, in one place: one family per top-level prefix. Keys are derived from
 * ids alone, so a retried or replayed step writes the same object (retries are harmless), and no other
 * module builds or parses a key.
 *
 * Adding a family (e.g. `boards/`): add its prefix to STORAGE_PREFIXES, add a `…Keys` object below built
 * on that prefix (and a parser here if keys are ever listed back), grant the prefix in
 * infra/iam-policies.ts, and read/write its JSON records with readRecord/writeRecord (core/stored-records.ts).
 *
 * | family        | written by            | holds                                                              |
 * |---------------|-----------------------|--------------------------------------------------------------------|
 * | jobs/         | bot, runner, dispatcher | one folder per job: record, outputs, bot markers                 |
 * | pending/      | bot (runner clears)   | one empty marker per unfinished job, listed for the per-user cap   |
 * | settings/     | bot                   | per-user and per-channel defaults                                  |
 * | dead-letters/ | runner                | "the user was told" notices for jobs that reached the DLQ          |
 * | models/       | operators             | model bundles the GPU hosts sync at boot                           |
 * | web/          | web playground        | the playground's session key (npm start only; no IAM grant)        |
 * | boards/       | bot, dispatcher       | one folder per mood board: one object per fact (bot/boards/)       |
 * | board-places/ | bot, dispatcher       | one empty marker per open board, listed by channel                 |
 */
import type { Job, JobId, Platform, Requester } from './job.ts';

export const STORAGE_PREFIXES = {
  jobs: 'jobs/',
  pending: 'pending/',
  settings: 'settings/',
  deadLetters: 'dead-letters/',
  models: 'models/',
  web: 'web/',
  boards: 'boards/',
  boardPlaces: 'board-places/',
  /** Header-edit claims (bot/boards/header-updater.ts): only the newest matters, so the bucket expires them after a day. */
  boardHeaderClaims: 'board-header-claims/',
} as const;

const jobFolder = (id: JobId) => `${STORAGE_PREFIXES.jobs}${id}/`;

/** `jobs/{id}/…`: everything about one job; deleting the job removes the folder but `deleted.json`. */
export const jobKeys = {
  prefix: jobFolder,
  /** The job as accepted (JobSchema); written by the bot before the queue message. */
  job: (id: JobId) => `${jobFolder(id)}job.json`,
  /** What the runner produced (ResultSchema). Its presence means the job is done. */
  result: (id: JobId) => `${jobFolder(id)}result.json`,
  grid: (id: JobId, ext: 'png' | 'jpg' | 'webp' = 'png') => `${jobFolder(id)}grid.${ext}`,
  image: (id: JobId, index: number) => `${jobFolder(id)}image-${index}.png`,
  /** Every latent of the job, in image order (LatentRef.offset says where each starts). */
  latents: (id: JobId) => `${jobFolder(id)}latents.f32`,
  /** The latest preview: the key stays, the bytes change. */
  preview: (id: JobId) => `${jobFolder(id)}preview.jpg`,
  /** A cancel request (CancelRequestSchema); the runner checks for it before and during the work. */
  cancel: (id: JobId) => `${jobFolder(id)}cancel.json`,
  /** Bot side only: written after the final message reached the platform, so a duplicate event does not deliver twice. */
  delivered: (id: JobId) => `${jobFolder(id)}delivered.json`,
  /** Bot side only: the owner deleted the job; the objects are gone, the marker stops late events from re-posting. */
  deleted: (id: JobId) => `${jobFolder(id)}deleted.json`,
  /** Dispatcher: the Discord message the job owns, so edits after a restart land on the same message. */
  discordMessage: (id: JobId) => `${jobFolder(id)}discord-message.json`,
  /** Picture `n` (0–4) uploaded with the job, normalised to PNG by the bot before the job is queued (bot/uploads.ts). */
  input: (id: JobId, n: number) => `${jobFolder(id)}inputs/${n}.png`,
} as const;

/**
 * The keys a request may name as a picture (core/job.ts ImageKeySchema): an upload of a job or a finished tile of one.
 * Anything else — another family, another object of a job — is refused, so a request cannot point the runner anywhere.
 */
export const IMAGE_KEY_PATTERN = /^jobs\/([a-z0-9][a-z0-9-]{0,63})\/(?:inputs\/([0-4])\.png|image-([1-4])\.png)$/;

/** The job and slot a picture key names; undefined for any key a request may not name. */
export function parseImageKey(key: string): { jobId: JobId; upload: number } | { jobId: JobId; tile: number } | undefined {
  const match = IMAGE_KEY_PATTERN.exec(key);
  if (!match) return undefined;
  return match[2] !== undefined ? { jobId: match[1]!, upload: Number(match[2]) } : { jobId: match[1]!, tile: Number(match[3]) };
}

/** The job a key under `jobs/` belongs to and the object's name in its folder; undefined for any other key. */
export function parseJobKey(key: string): { jobId: JobId; name: string } | undefined {
  const match = /^jobs\/([^/]+)\/([^/]+)$/.exec(key);
  return match ? { jobId: match[1]!, name: match[2]! } : undefined;
}

/** The id of the job whose record (`jobs/{id}/job.json`) `key` is; undefined for any other key. */
export function jobIdOfRecordKey(key: string): JobId | undefined {
  const jobId = parseJobKey(key)?.jobId;
  return jobId !== undefined && key === jobKeys.job(jobId) ? jobId : undefined;
}

/** A job's delivered.json or deleted.json: written by the bot side only (never by a runner). */
export function isBotMarkerKey(key: string): boolean {
  const jobId = parseJobKey(key)?.jobId;
  return jobId !== undefined && (key === jobKeys.delivered(jobId) || key === jobKeys.deleted(jobId));
}

/**
 * `pending/{platform}/{userId}/{createdAtMs}-{jobId}`: the creation time is in the key, so one LIST of a
 * user's folder counts their unfinished jobs without a GET.
 */
export const pendingKeys = {
  user: (requester: Pick<Requester, 'platform' | 'userId'>) => `${STORAGE_PREFIXES.pending}${requester.platform}/${encodeURIComponent(requester.userId)}/`,
  marker: (job: Pick<Job, 'id' | 'createdAt' | 'requester'>) => `${pendingKeys.user(job.requester)}${Date.parse(job.createdAt)}-${job.id}`,
} as const;

/** A marker key listed under `pendingKeys.user(requester)`: when the job was created and its id; undefined for anything else. */
export function parsePendingKey(requester: Pick<Requester, 'platform' | 'userId'>, key: string): { createdAtMs: number; jobId: JobId } | undefined {
  const prefix = pendingKeys.user(requester);
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d+)-(.+)$/.exec(key.slice(prefix.length));
  return match ? { createdAtMs: Number(match[1]), jobId: match[2]! } : undefined;
}

/** `settings/users/{platform}/{userId}.json` and `settings/channels/{platform}/{channelId}.json`. */
export const settingsKeys = {
  /** Everything below is stored under it. */
  prefix: STORAGE_PREFIXES.settings,
  user: (platform: Platform, userId: string) => `${STORAGE_PREFIXES.settings}users/${platform}/${encodeURIComponent(userId)}.json`,
  channel: (platform: Platform, channelId: string) => `${STORAGE_PREFIXES.settings}channels/${platform}/${encodeURIComponent(channelId)}.json`,
} as const;

/** `dead-letters/{jobId}.json`: the user has been told about this dead-lettered job (kept past the DLQ's retention). */
export const deadLetterKeys = {
  notice: (jobId: JobId) => `${STORAGE_PREFIXES.deadLetters}${jobId}.json`,
} as const;

/**
 * `models/{name}/{version}/`: one immutable model bundle version, uploaded by infra/model-upload.ts;
 * `models/{name}/current`: the version the fleet runs (one line), read by each booting GPU host.
 */
export const modelKeys = {
  bundle: (name: string) => `${STORAGE_PREFIXES.models}${name}/`,
  version: (name: string, version: string) => `${STORAGE_PREFIXES.models}${name}/${version}/`,
  pointer: (name: string) => `${STORAGE_PREFIXES.models}${name}/current`,
} as const;

/**
 * Mood boards (bot/boards/): where a board's facts live in the bucket, next to the jobs. One object per fact, so concurrent
 * presses never read-modify-write a shared object (the emulator's S3, fauxqs 1.9.2, ignores
 * `If-None-Match` on PUT, so conditional writes are not relied on):
 *
 *   boards/{boardId}/board.json                 the board as started (written once, never rewritten)
 *   boards/{boardId}/cohosts/{userKey}          one per co-host
 *   boards/{boardId}/members/{userKey}          one per member (the 25-member limit counts these)
 *   boards/{boardId}/candidates/{jobId}         one per job made in the board's place
 *   boards/{boardId}/pins/{jobId}-{tile}.json   one per pinned tile; unpin = DELETE
 *   boards/{boardId}/votes/{jobId}-{tile}/{userKey}  one per user per pin; vote = PUT, unvote = DELETE, count = LIST
 *   boards/{boardId}/hero.json                  the host's hero pick (only the host writes it)
 *   boards/{boardId}/header.json                where the board's header message is (written by whoever posted it)
 *   boards/{boardId}/tokens/{sha256(token)}     one per issued page-link token (the token itself is never stored)
 *   boards/{boardId}/versions/{versionId}.json  frozen snapshots behind the board codes; unique ids, never rewritten
 *   boards/{boardId}/ended.json                 the end of the board (who, when, why)
 *   boards/{boardId}/exports/{collage.png, sheet.pdf, board.zip}
 *   board-places/{platform}/{channelId}/{startedAtMs}-{boardId}   "this board is active here"; deleted when it ends
 */
/** `platform:userId`, URI-encoded so any platform id is a safe key segment. */
export function userKey(user: { platform: Platform; userId: string }): string {
  return encodeURIComponent(`${user.platform}:${user.userId}`);
}

export function pinKeyOf(jobId: string, tile: number): string {
  return `${jobId}-${tile}`;
}

export const boardKeys = {
  prefix: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/`,
  board: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/board.json`,
  cohosts: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/cohosts/`,
  cohost: (boardId: string, user: string) => `${STORAGE_PREFIXES.boards}${boardId}/cohosts/${user}`,
  members: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/members/`,
  member: (boardId: string, user: string) => `${STORAGE_PREFIXES.boards}${boardId}/members/${user}`,
  candidates: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/candidates/`,
  candidate: (boardId: string, jobId: string) => `${STORAGE_PREFIXES.boards}${boardId}/candidates/${jobId}`,
  pins: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/pins/`,
  pin: (boardId: string, pinKey: string) => `${STORAGE_PREFIXES.boards}${boardId}/pins/${pinKey}.json`,
  votes: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/votes/`,
  votesOf: (boardId: string, pinKey: string) => `${STORAGE_PREFIXES.boards}${boardId}/votes/${pinKey}/`,
  vote: (boardId: string, pinKey: string, user: string) => `${STORAGE_PREFIXES.boards}${boardId}/votes/${pinKey}/${user}`,
  hero: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/hero.json`,
  header: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/header.json`,
  /** When the header was last edited: the 30-second pacing holds across restarts and dispatcher instances. */
  headerEdited: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/header-edited.json`,
  /**
   * The right to make the header edit that follows the edit at `editedAt`: created with a conditional PUT, so of all
   * dispatcher instances exactly one makes it; `attempt` moves on only when the claim before it went stale.
   */
  headerClaim: (boardId: string, editedAt: number, attempt: number) => `${STORAGE_PREFIXES.boardHeaderClaims}${boardId}/${String(editedAt).padStart(15, '0')}-${attempt}.json`,
  /** One object per pin slot (0 … maxPins−1), created conditionally: the pin limit is exact. */
  pinSlots: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/pin-slots/`,
  pinSlot: (boardId: string, slot: number) => `${STORAGE_PREFIXES.boards}${boardId}/pin-slots/${String(slot).padStart(4, '0')}`,
  /** One object per member slot (0 … maxMembers−1), created conditionally: the member limit is exact. */
  memberSlots: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/member-slots/`,
  memberSlot: (boardId: string, slot: number) => `${STORAGE_PREFIXES.boards}${boardId}/member-slots/${String(slot).padStart(4, '0')}`,
  /** The end summary was posted (once, however often the board is ended or its events redelivered). */
  summary: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/summary.json`,
  /** A `link` board's one shown page token (its link is shown to the whole place anyway); every other token is stored as a hash only. */
  sharedLink: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/shared-link.json`,
  tokens: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/tokens/`,
  token: (boardId: string, tokenHash: string) => `${STORAGE_PREFIXES.boards}${boardId}/tokens/${tokenHash}`,
  versions: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/versions/`,
  version: (boardId: string, versionId: string) => `${STORAGE_PREFIXES.boards}${boardId}/versions/${versionId}.json`,
  ended: (boardId: string) => `${STORAGE_PREFIXES.boards}${boardId}/ended.json`,
  export: (boardId: string, file: 'collage.png' | 'sheet.pdf' | 'board.zip') => `${STORAGE_PREFIXES.boards}${boardId}/exports/${file}`,
  placePrefix: (platform: Platform, channelId: string) => `${STORAGE_PREFIXES.boardPlaces}${platform}/${encodeURIComponent(channelId)}/`,
  place: (platform: Platform, channelId: string, startedAtMs: number, boardId: string) =>
    `${STORAGE_PREFIXES.boardPlaces}${platform}/${encodeURIComponent(channelId)}/${String(startedAtMs).padStart(15, '0')}-${boardId}`,
  allPlaces: () => STORAGE_PREFIXES.boardPlaces,
} as const;

/** `web/…`: the local playground's own state (bot/web/sessions.ts). */
export const webKeys = {
  /** The HMAC key that signs session tokens and derives user ids from them; never served (/api/image serves jobs/ images only). */
  sessionKey: `${STORAGE_PREFIXES.web}session-key`,
} as const;
