/**
 * Cuts `text` to at most `max` characters (UTF-16 code units, as platform limits count them), marking a cut with "…".
 * @example truncate('a lighthouse at dusk', 10) // → 'a lightho…'
 */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
