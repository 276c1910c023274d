import { describe, expect, it } from "vitest";
import { countMessageTokens, countTextTokens, estimateTokens, messageOverheadTokens, TOKENIZER_FAMILIES } from "./tokens";

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
