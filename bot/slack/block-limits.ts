/**
 * Slack's Block Kit limits as predicates beside the renderer, so a message that Slack would refuse
 * (`invalid_blocks`, `msg_blocks_too_long`) fails here with a sentence naming the block and the limit,
 * before any API call. Numbers: chat-platforms.md §5.2 and the Block Kit reference pages.
 *
 * @example
 *   assertValidSlackMessage({ text: 'hi', blocks: [{ type: 'actions', elements: [] }] })
 *   // throws SlackBlocksError: 'blocks[0] (actions): an actions block needs 1–25 elements, got 0'
 */
import { CodedError } from '../../core/errors.ts';
export const SLACK_LIMITS = Object.freeze({
  blocksPerMessage: 50,
  elementsPerActions: 25,
  elementsPerContext: 10,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  sectionText: 3000,
  headerText: 150,
  imageAltText: 2000,
  imageUrl: 3000,
  /** chat.postMessage truncates `text` past 40,000 characters. */
  fallbackText: 40_000,
  /** `msg_blocks_too_long` was seen around 13 k characters of block JSON, below the documented limits (bolt-js#2509). */
  blocksJsonChars: 12_000,
});

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainText;
  value?: string;
  style?: 'primary' | 'danger';
}
export type SlackBlock =
  | { type: 'section'; block_id?: string; text: PlainText | Mrkdwn }
  | { type: 'context'; block_id?: string; elements: Array<PlainText | Mrkdwn> }
  | { type: 'image'; block_id?: string; alt_text: string; slack_file?: { id: string }; image_url?: string; title?: PlainText }
  | { type: 'actions'; block_id?: string; elements: ButtonElement[] }
  | { type: 'divider'; block_id?: string };

export interface SlackMessage {
  /** Notification and screen-reader fallback; required by Slack whenever blocks are sent. */
  text: string;
  blocks: SlackBlock[];
}

export class SlackBlocksError extends CodedError<'invalid_slack_blocks'> {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('invalid_slack_blocks', `Slack message breaks Block Kit limits:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Every limit problem of one message at once. Empty when Slack would accept it. */
export function slackMessageProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  check(message.text.trim().length > 0, 'text: the fallback text must not be empty');
  check(message.text.length <= SLACK_LIMITS.fallbackText, `text: ${message.text.length} characters, the limit is ${SLACK_LIMITS.fallbackText}`);
  check(message.blocks.length <= SLACK_LIMITS.blocksPerMessage, `blocks: ${message.blocks.length} blocks, the limit is ${SLACK_LIMITS.blocksPerMessage}`);
  const json = JSON.stringify(message.blocks).length;
  check(json <= SLACK_LIMITS.blocksJsonChars, `blocks: ${json} characters of JSON, keep it under ${SLACK_LIMITS.blocksJsonChars}`);

  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  message.blocks.forEach((block, i) => {
    const where = `blocks[${i}] (${block.type})`;
    if (block.block_id !== undefined) {
      check(block.block_id.length >= 1 && block.block_id.length <= SLACK_LIMITS.blockId, `${where}: block_id must be 1–${SLACK_LIMITS.blockId} characters`);
      check(!blockIds.has(block.block_id), `${where}: block_id "${block.block_id}" is used twice`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section':
        check(block.text.text.length >= 1 && block.text.text.length <= SLACK_LIMITS.sectionText, `${where}: text must be 1–${SLACK_LIMITS.sectionText} characters, got ${block.text.text.length}`);
        break;
      case 'context':
        check(block.elements.length >= 1 && block.elements.length <= SLACK_LIMITS.elementsPerContext, `${where}: a context block needs 1–${SLACK_LIMITS.elementsPerContext} elements, got ${block.elements.length}`);
        block.elements.forEach((element, j) =>
          check(element.text.length >= 1 && element.text.length <= SLACK_LIMITS.sectionText, `${where}.elements[${j}]: text must be 1–${SLACK_LIMITS.sectionText} characters`),
        );
        break;
      case 'image':
        check((block.slack_file === undefined) !== (block.image_url === undefined), `${where}: exactly one of slack_file and image_url is needed`);
        check(block.slack_file === undefined || /^F[A-Z0-9]{8,}$/.test(block.slack_file.id), `${where}: slack_file.id must look like F0123ABCD`);
        check(block.image_url === undefined || block.image_url.length <= SLACK_LIMITS.imageUrl, `${where}: image_url longer than ${SLACK_LIMITS.imageUrl} characters`);
        check(block.alt_text.length >= 1 && block.alt_text.length <= SLACK_LIMITS.imageAltText, `${where}: alt_text must be 1–${SLACK_LIMITS.imageAltText} characters`);
        break;
      case 'actions':
        check(block.elements.length >= 1 && block.elements.length <= SLACK_LIMITS.elementsPerActions, `${where}: an actions block needs 1–${SLACK_LIMITS.elementsPerActions} elements, got ${block.elements.length}`);
        block.elements.forEach((button, j) => {
          const at = `${where}.elements[${j}]`;
          check(button.action_id.length >= 1 && button.action_id.length <= SLACK_LIMITS.actionId, `${at}: action_id must be 1–${SLACK_LIMITS.actionId} characters`);
          check(!actionIds.has(button.action_id), `${at}: action_id "${button.action_id}" is used twice in the message`);
          actionIds.add(button.action_id);
          check(button.text.text.length >= 1 && button.text.text.length <= SLACK_LIMITS.buttonText, `${at}: button text must be 1–${SLACK_LIMITS.buttonText} characters`);
          check(button.value === undefined || button.value.length <= SLACK_LIMITS.buttonValue, `${at}: value longer than ${SLACK_LIMITS.buttonValue} characters`);
        });
        break;
      case 'divider':
        break;
    }
  });
  return problems;
}

export function assertValidSlackMessage(message: SlackMessage): SlackMessage {
  const problems = slackMessageProblems(message);
  if (problems.length > 0) throw new SlackBlocksError(problems);
  return message;
}
