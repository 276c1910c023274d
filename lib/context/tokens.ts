import { bpeBoundaries, bpeBoundariesYielding, countBpeTokens, countBpeTokensYielding, type BpeEncoding } from "./bpe-count.mjs";
import type { TokenizerFamily } from "./tokenizer-families";

/**
 * Token counting for context budgets. OpenAI families are counted with their BPE ranks (exactly,
 * except inside a run of over 512 characters without a break — see bpe-count.mjs); Llama 3 is
 * bounded by cl100k; anything else goes through a calibrated, deliberately high estimator. Every
 * count is linear in the text. Counts are taken once, when a message is written, and stored with it.
 */

export { TOKENIZER_FAMILIES, type TokenizerFamily } from "./tokenizer-families";

// Llama 3's vocabulary is cl100k's 100k ranks plus 28k merges ranked after them, behind the same
// pre-tokenizer: BPE applies every cl100k merge first and the extra ones only shorten the result,
// so the cl100k count bounds Llama 3's from above (argued, not measured: no Llama tokenizer is
// installed). "<|endoftext|>" typed into a message is counted as plain text, not rejected.
const ENCODING: Record<TokenizerFamily, BpeEncoding | null> = { o200k: "o200k", cl100k: "cl100k", llama3: "cl100k", estimate: null };

/** For texts whose size the caller bounds (a passage, a summary, a fitted prompt). */
export function countTextTokens(text: string, family: TokenizerFamily): number {
  if (text.length === 0) return 0;
  const encoding = ENCODING[family];
  return encoding ? countBpeTokens(encoding, text) : estimateTokens(text);
}

/**
 * The same count, yielding to the event loop every few milliseconds: for what a request brings
 * (messages of up to MAX_MESSAGE_CHARS, a body of many of them) and what a model returns.
 */
export async function countTextTokensAsync(text: string, family: TokenizerFamily): Promise<number> {
  if (text.length === 0) return 0;
  const encoding = ENCODING[family];
  return encoding ? countBpeTokensYielding(encoding, text) : estimateTokens(text);
}

/**
 * Fills in the count of every message without one (`tokens: null`), yielding between slices, so
 * that assembling a context afterwards counts nothing large on the event loop.
 */
export async function withTokenCounts<M extends { content: string; tokens: number | null }>(messages: M[], family: TokenizerFamily): Promise<M[]> {
  const counted: M[] = [];
  for (const message of messages) {
    counted.push(message.tokens === null ? { ...message, tokens: await countTextTokensAsync(message.content, family) } : message);
  }
  return counted;
}

export type TokenBoundaries = ReturnType<typeof bpeBoundaries>;

/**
 * Cut points of `text` with the count before each, for fitting it to a budget in one pass; null
 * for the estimator, which has none.
 */
export function tokenBoundaries(text: string, family: TokenizerFamily): TokenBoundaries | null {
  const encoding = ENCODING[family];
  return encoding ? bpeBoundaries(encoding, text) : null;
}

/** tokenBoundaries, yielding to the event loop every few milliseconds. */
export async function tokenBoundariesAsync(text: string, family: TokenizerFamily): Promise<TokenBoundaries | null> {
  const encoding = ENCODING[family];
  return encoding ? bpeBoundariesYielding(encoding, text) : null;
}

/**
 * Chat framing around each message's content, and the tokens that prime the reply. OpenAI:
 * `<|start|>role<|message|>…<|end|>` is 4, the reply primer 3 (OpenAI cookbook). Llama 3:
 * `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` is 5, plus `<|begin_of_text|>` and the
 * assistant header. Unknown templates (ChatML, Gemma, Mistral…) stay under 8.
 */
const FRAMING: Record<TokenizerFamily, { perMessage: number; replyPriming: number }> = {
  o200k: { perMessage: 4, replyPriming: 3 },
  cl100k: { perMessage: 4, replyPriming: 3 },
  llama3: { perMessage: 5, replyPriming: 5 },
  estimate: { perMessage: 8, replyPriming: 8 },
};

export function messageOverheadTokens(family: TokenizerFamily): number {
  return FRAMING[family].perMessage;
}

export function replyPrimingTokens(family: TokenizerFamily): number {
  return FRAMING[family].replyPriming;
}

/** A message as sent: its content (or its stored count, when taken in this family) plus framing. */
export function countMessageTokens(message: { content: string; tokens?: number | null }, family: TokenizerFamily): number {
  return (message.tokens ?? countTextTokens(message.content, family)) + FRAMING[family].perMessage;
}

/**
 * Weights per text feature, fitted by least squares against max(cl100k, o200k) on English prose,
 * Markdown, TypeScript and JSON, then scaled by ESTIMATE_SCALE so the estimate is at or above both
 * exact counts on ≥ 99 % of samples; non-Latin scripts are weighted per character at the worst
 * rate cl100k showed for them. Measured with `npx tsx bench/context.ts` (section `estimator`,
 * estimate ÷ exact) on 966 samples of 20–6,000 characters: README.md and docs/*.md, this repo's
 * TypeScript, package-lock.json, BEIR SciFact abstracts, and the strings of 57 zod locale files:
 *   English prose, Markdown, code, JSON (909): vs cl100k median 1.18, p1 1.01, p99 1.41, range
 *     0.89–1.52; under the exact count on 0.4 % of samples, never by more than 11 %. vs o200k
 *     median 1.18, range 0.92–1.58.
 *   Other Latin-script languages (28): vs cl100k median 1.07, min 0.88; vs o200k min 1.01.
 *   Other scripts (29: CJK, Cyrillic, Greek, Arabic, Hebrew, Armenian, Indic, Thai…): vs cl100k
 *     median 1.43, range 1.14–2.67; vs o200k median 2.5.
 * Over a conversation the per-message errors average towards the +18 % bias, which with the
 * assembler's 2 % margin covers the rare under-count. What it cannot know is a model's vocabulary:
 * a 32k-vocabulary tokenizer (Llama 2, early Mistral) needs noticeably more tokens than cl100k for
 * English, which the bias only partly absorbs. Name a closer family in MODEL_OVERRIDES if there is one.
 */
const WEIGHTS = {
  word: 1,
  /** …per letter past the sixth: long and rare words split into several tokens. */
  longWordChar: 0.19,
  capitalised: 0.32,
  /** cl100k and o200k split digit runs into groups of at most three. */
  digitGroup: 1.5,
  asciiPunctuation: 0.6,
  /** Per four spaces of indentation (one space before a word rides along with it). */
  indentation: 0.48,
  lineBreak: 0.42,
  latin1: 1,
  /** ė, ų, č, ş…: rarer in English-centred vocabularies, often a byte per token. */
  latinExtended: 2,
  greek: 1.2,
  cyrillic: 0.85,
  armenian: 2.5,
  hebrewArabic: 1.6,
  cjk: 1.4,
  symbol: 1.5,
  otherBmp: 2.5,
  astral: 3,
};
const ESTIMATE_SCALE = 1.12;

/** A calibrated, single-pass estimate for tokenizers we cannot run; see WEIGHTS for its bounds. */
export function estimateTokens(text: string): number {
  let total = 0;
  let word = 0;
  let wordCapitalised = false;
  let previousLower = false;
  let digits = 0;
  let spaces = 0;
  const endWord = () => {
    if (word > 0) total += WEIGHTS.word + WEIGHTS.longWordChar * Math.max(0, word - 6) + (wordCapitalised ? WEIGHTS.capitalised : 0);
    word = 0;
    wordCapitalised = false;
  };
  const endDigits = () => {
    total += WEIGHTS.digitGroup * Math.ceil(digits / 3);
    digits = 0;
  };
  const endSpaces = () => {
    if (spaces > 1) total += WEIGHTS.indentation * Math.ceil((spaces - 1) / 4);
    spaces = 0;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (upper || lower) {
      if (digits) endDigits();
      if (spaces) endSpaces();
      // camelCase and PascalCase identifiers tokenize as their parts.
      if (upper && previousLower) endWord();
      if (word === 0 && upper) wordCapitalised = true;
      word++;
      previousLower = lower;
      continue;
    }
    previousLower = false;
    endWord();
    if (c >= 48 && c <= 57) {
      if (spaces) endSpaces();
      digits++;
      continue;
    }
    if (digits) endDigits();
    if (c === 32 || c === 9) {
      spaces++;
      continue;
    }
    if (spaces) endSpaces();
    if (c < 128) total += c === 10 || c === 13 ? WEIGHTS.lineBreak : c > 32 ? WEIGHTS.asciiPunctuation : 0;
    else if (c >= 0xd800 && c <= 0xdbff) {
      total += WEIGHTS.astral;
      i++;
    } else total += nonAsciiWeight(c);
  }
  endWord();
  if (digits) endDigits();
  if (spaces) endSpaces();
  return Math.ceil(total * ESTIMATE_SCALE);
}

function nonAsciiWeight(c: number): number {
  if (c < 0x100) return WEIGHTS.latin1;
  if (c < 0x250) return WEIGHTS.latinExtended;
  if (c < 0x400) return WEIGHTS.greek;
  if (c < 0x530) return WEIGHTS.cyrillic;
  if (c < 0x590) return WEIGHTS.armenian;
  if (c < 0x800) return WEIGHTS.hebrewArabic;
  if ((c >= 0x3040 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xff00 && c <= 0xffef)) return WEIGHTS.cjk;
  if (c >= 0x2000 && c <= 0x2bff) return WEIGHTS.symbol;
  return WEIGHTS.otherBmp;
}
