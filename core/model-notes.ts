/**
 * What a small model tells its user about a request it cannot wholly draw, from its bundle's optional guide
 * (manifest `vocabulary` and `styles`; real bundles have neither): prompt words outside the words it was trained
 * on, and a `--style` preset it has no mapping for. The image is made all the same. Platform-neutral: the runner puts
 * the notes into result.json and every chat platform shows them with the result.
 *
 * @example modelNotes({ prompt: 'a cat on blue' }, demoGuide)
 *          // → ["the demo model draws shapes and colours; it doesn't know 'cat'"]
 */
export interface StyleMapping {
  promptSuffix: string;
  negative: string;
}

export interface ModelGuide {
  vocabulary?: { summary: string; words: readonly string[] };
  /** Presets this model can draw (mapped to words it knows); absent = every preset as written. */
  styles?: Readonly<Record<string, StyleMapping>>;
}

/** At most this many unknown words are named; the rest are counted. */
const MAX_NAMED = 3;
/** A named word is cut to this many characters (a prompt may hold one very long "word"). */
const MAX_WORD = 24;
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

/** The prompt's distinct words, lower case, that `known` lacks, in the order they first appear. */
export function unknownWords(prompt: string, known: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  for (const match of prompt.toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (!known.has(word) && !/^\p{N}+$/u.test(word)) seen.add(word);
  }
  return [...seen];
}

function quoteList(words: readonly string[]): string {
  const named = words.slice(0, MAX_NAMED).map((w) => `'${w.length > MAX_WORD ? `${w.slice(0, MAX_WORD)}…` : w}'`);
  const rest = words.length - named.length;
  if (rest > 0) return `${named.join(', ')} and ${rest} more`;
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} or ${named.at(-1)!}` : named[0]!;
}

/** True when the model applies this preset (it has no style guide, or the guide maps the preset). */
export function drawsStyle(style: string, guide: ModelGuide | undefined): boolean {
  return guide?.styles === undefined || Object.hasOwn(guide.styles, style);
}

export function modelNotes(request: { prompt: string; style?: string | undefined }, guide: ModelGuide | undefined): string[] {
  const notes: string[] = [];
  if (guide?.vocabulary) {
    const unknown = unknownWords(request.prompt, new Set(guide.vocabulary.words));
    if (unknown.length > 0) notes.push(`${guide.vocabulary.summary}; it doesn't know ${quoteList(unknown)}`);
  }
  if (request.style !== undefined && !drawsStyle(request.style, guide)) {
    notes.push(`this model has no '${request.style}' style, so it was drawn without it`);
  }
  return notes;
}
