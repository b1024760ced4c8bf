/**
 * Prompts that are not plain ASCII, for the end-to-end tests through the emulator and the playground.
 * Each is already in the parser's normal form (single spaces, no leading or trailing space), so the
 * prompt a job carries must equal it exactly.
 */
export interface UnicodePrompt {
  name: string;
  prompt: string;
  /** A --no text in the same script. */
  negative: string;
}

export const UNICODE_PROMPTS: readonly UnicodePrompt[] = [
  { name: 'emoji', prompt: 'a red fox 🦊 under a full moon 🌕', negative: 'clouds ☁️' },
  { name: 'ZWJ sequences and skin tones', prompt: 'a family 👨‍👩‍👧‍👦 waving 👋🏽 by a rainbow flag 🏳️‍🌈', negative: 'rain 🌧️' },
  { name: 'CJK', prompt: '雪の中の赤い狐 与 一座灯塔 그리고 등대', negative: '文字' },
  { name: 'RTL (Arabic and Hebrew)', prompt: 'منارة عند الغروب ומגדלור בים', negative: 'ضباب' },
  { name: 'combining marks (decomposed)', prompt: 'cafe\u0301 au lait, an\u0303o nuevo, Z\u0351\u0364a\u0350l\u0357g\u0346o\u0315', negative: 'bru\u0302le\u0301' },
  { name: 'astral-plane letters and symbols', prompt: '𝕬 𝖋𝖔𝖝 in 𝓯𝓪𝓷𝓬𝔂 letters, 𐍈 Gothic, 𓀀 hieroglyph, 𠜎 CJK ext-B', negative: '𝟘𝟙𝟚' },
  { name: 'regional-indicator flags and keycaps', prompt: 'flags 🇯🇵 🇧🇷 🇺🇦 and keycaps 1️⃣ #️⃣', negative: '🚫' },
  { name: 'mixed scripts with BOM-free zero-width characters', prompt: 'Ελληνικά, русский, हिन्दी, ไทย and zero\u200Bwidth', negative: 'ñandú' },
];
