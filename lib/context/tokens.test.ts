import { readFileSync } from "node:fs";
import { countTokens as exactCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as exactO200k } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { MAX_PIECE_CHARS } from "./bpe-count.mjs";
import { countMessageTokens, countTextTokens, countTextTokensAsync, estimateTokens, messageOverheadTokens, TOKENIZER_FAMILIES } from "./tokens";

const ENGLISH =
  "The context window is the number of tokens a model can attend to at once. When a conversation grows past it, the oldest turns are summarized and the newest are sent verbatim, so the reply never loses the question it answers.";
const CODE = `export function costUsd(info: ModelInfo, promptTokens: number): number {
  const cost = (promptTokens * info.inputPerMillion) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}`;
const JSON_TEXT = JSON.stringify({ id: "c1b2", messages: [{ seq: 1, role: "user", content: "hello", tokens: 1 }], total: 12345.67 }, null, 2);
const OTHER_SCRIPTS = "コンテキストウィンドウは一度に扱えるトークン数です。Окно контекста — это число токенов. 🙂🚀";

describe("countTextTokens", () => {
  it("counts OpenAI encodings exactly", () => {
    expect(countTextTokens("hello world", "o200k")).toBe(2);
    expect(countTextTokens("hello world", "cl100k")).toBe(2);
    // o200k's larger vocabulary covers Japanese better than cl100k's.
    expect(countTextTokens("コンテキストウィンドウ", "o200k")).toBeLessThan(countTextTokens("コンテキストウィンドウ", "cl100k"));
  });

  it("treats special-token text typed by a user as plain text instead of throwing", () => {
    for (const family of TOKENIZER_FAMILIES) expect(countTextTokens("say <|endoftext|> now", family)).toBeGreaterThan(3);
  });

  it("bounds Llama 3 by cl100k and counts nothing as zero", () => {
    expect(countTextTokens(ENGLISH, "llama3")).toBe(countTextTokens(ENGLISH, "cl100k"));
    for (const family of TOKENIZER_FAMILIES) expect(countTextTokens("", family)).toBe(0);
  });
});

describe("estimateTokens", () => {
  it.each([
    ["English prose", ENGLISH, 1.5],
    ["TypeScript", CODE, 1.5],
    ["JSON", JSON_TEXT, 1.5],
    // Per-character weights sit at the worst rate measured for each script, so the bias is larger.
    ["Japanese, Russian and emoji", OTHER_SCRIPTS, 3],
  ])("errs high but within reason on %s", (_, text, ceiling) => {
    const exact = Math.max(countTextTokens(text, "cl100k"), countTextTokens(text, "o200k"));
    const estimate = estimateTokens(text);
    expect(estimate).toBeGreaterThanOrEqual(exact);
    expect(estimate).toBeLessThan(exact * ceiling);
  });

  it("grows with long unbroken input instead of treating it as one word", () => {
    const pasted = "a".repeat(10_000);
    expect(estimateTokens(pasted)).toBeGreaterThan(countTextTokens(pasted, "cl100k"));
  });
});

describe("countMessageTokens", () => {
  it("adds the chat framing to the content", () => {
    expect(countMessageTokens({ content: "hello world" }, "o200k")).toBe(2 + messageOverheadTokens("o200k"));
    expect(messageOverheadTokens("o200k")).toBe(4);
  });

  it("uses a stored count instead of re-tokenizing", () => {
    expect(countMessageTokens({ content: "hello world", tokens: 500 }, "cl100k")).toBe(500 + messageOverheadTokens("cl100k"));
    expect(countMessageTokens({ content: "hello world", tokens: null }, "cl100k")).toBe(2 + messageOverheadTokens("cl100k"));
  });
});

// gpt-tokenizer's own count, quadratic in a pre-token: the reference on text where it is affordable.
const PLAIN = { disallowedSpecial: new Set<string>() };
const EXACT = { o200k: (text: string) => exactO200k(text, PLAIN), cl100k: (text: string) => exactCl100k(text, PLAIN) };
const BPE_FAMILIES = ["o200k", "cl100k"] as const;

/** Deterministic pseudo-random text of `length` UTF-16 units drawn by `draw`. */
function randomText(length: number, draw: (random: () => number) => string, seed = 7): string {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  let text = "";
  while (text.length < length) text += draw(random);
  // Never end on half a surrogate pair.
  return text.length > length && /[\uD800-\uDBFF]/.test(text[length - 1] ?? "") ? text.slice(0, length - 1) : text.slice(0, length);
}
const from = (chars: string) => (random: () => number) => chars[Math.floor(random() * chars.length)] ?? "x";

/** Inputs that made gpt-tokenizer's merge take seconds: one pre-token as long as the text. */
const PATHOLOGICAL: Record<string, (length: number) => string> = {
  "CJK ideographs": (n) => randomText(n, (r) => String.fromCharCode(0x4e00 + Math.floor(r() * 20_000))),
  "one letter repeated": (n) => "a".repeat(n),
  spaces: (n) => " ".repeat(n),
  digits: (n) => "7".repeat(n),
  "emoji": (n) => randomText(n, (r) => String.fromCodePoint(0x1f300 + Math.floor(r() * 700))),
  "random letters": (n) => randomText(n, from("abcdefghijklmnopqrstuvwxyz")),
  punctuation: (n) => randomText(n, from("!?-_*#=~.,;:")),
  "mixed scripts without a break": (n) => randomText(n, from("aéжω中日한ไ😀\u0301")),
  "mixed everything": (n) => randomText(n, (r) => String.fromCharCode(Math.floor(r() * 0xd7ff))),
};

describe("countTextTokens on pathological input", () => {
  it.each(Object.keys(PATHOLOGICAL))("counts 32,000 characters of %s in well under a second", (name) => {
    const text = PATHOLOGICAL[name]!(32_000);
    for (const family of BPE_FAMILIES) {
      countTextTokens("warm the tables up", family);
      const started = performance.now();
      const tokens = countTextTokens(text, family);
      // gpt-tokenizer took 3–25 s here; this is linear and takes milliseconds.
      expect(performance.now() - started).toBeLessThan(250);
      expect(tokens).toBeGreaterThan(0);
    }
  });

  it("equals gpt-tokenizer's count on text with no pre-token over the piece length", () => {
    const corpus = ["README.md", "docs/design.md", "docs/api.md", "lib/context/assemble.ts", "package-lock.json"].map((file) => readFileSync(file, "utf8"));
    const samples = corpus.flatMap((text) => Array.from({ length: Math.ceil(Math.min(text.length, 60_000) / 6_000) }, (_, i) => text.slice(i * 6_000, (i + 1) * 6_000)));
    samples.push(ENGLISH, CODE, JSON_TEXT, OTHER_SCRIPTS, "say <|endoftext|> now", "x".repeat(MAX_PIECE_CHARS), " ".repeat(MAX_PIECE_CHARS));
    // Random strings over every kind of character the pre-tokenizers tell apart, lone surrogates
    // included. U+FEFF is left out: gpt-tokenizer's decoder drops it (see below).
    const kinds = from(" \n\t\r aAzZ09'!?.,-_/\\éüßñЖжΩω中文日本語한국어ไทย😀👍🏽\u0301\u200b\ud800\udc00<|>");
    for (let seed = 1; seed <= 300; seed++) samples.push(randomText(20 + (seed % 200), (r) => (r() < 0.7 ? kinds(r) : String.fromCharCode(Math.floor(r() * 0xd7ff))), seed));
    for (const text of samples) {
      for (const family of BPE_FAMILIES) expect(countTextTokens(text, family)).toBe(EXACT[family](text));
    }
  });

  it.each(Object.keys(PATHOLOGICAL))("never counts %s under the exact count, and at most 4 tokens per 512 characters over", (name) => {
    // 3,000 characters: past the piece length, yet affordable for gpt-tokenizer's exact count.
    const text = PATHOLOGICAL[name]!(3_000);
    for (const family of BPE_FAMILIES) {
      const over = countTextTokens(text, family) - EXACT[family](text);
      expect(over).toBeGreaterThanOrEqual(0);
      expect(over).toBeLessThanOrEqual(4 * Math.floor(text.length / MAX_PIECE_CHARS));
    }
  });

  it("counts U+FEFF as the one o200k token its bytes are", () => {
    // Its bytes EF BB BF are rank 5574; gpt-tokenizer decodes them to "" (a byte-order mark) and misses it.
    expect(countTextTokens("\ufeff", "o200k")).toBe(1);
  });

  it("counts a text of some 900,000 characters in slices that let timers run", async () => {
    const text = PATHOLOGICAL["CJK ideographs"]!(200_000) + ENGLISH.repeat(3_000);
    let longestGap = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 1);
    try {
      const tokens = await countTextTokensAsync(text, "o200k");
      expect(tokens).toBe(countTextTokens(text, "o200k"));
    } finally {
      clearInterval(probe);
    }
    expect(longestGap).toBeLessThan(100);
  });
});
