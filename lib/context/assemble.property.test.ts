import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleContext, PASSAGE_SEPARATOR_TOKENS, type AssembledContext, type ContextPassage, type HistoryMessage } from "./assemble";
import { countTextTokens, messageOverheadTokens, replyPrimingTokens, TOKENIZER_FAMILIES, type TokenizerFamily } from "./tokens";

/**
 * Random conversations × models × retrieval sizes: whatever comes in, the request fits the window
 * with the reply's tokens reserved, counted again from the strings actually sent.
 */

const VOCABULARY = "the budget window token reply summary passage model context ok yes no why how naïve café 東京 данные 🙂 { } ( ) => 42 1999 \n\n".split(" ");

type TextSpec = { words: number; seed: number };

/** Text from a size and a seed: cheap to shrink, and big texts do not go through fast-check. */
function textOf({ words, seed }: TextSpec): string {
  let state = seed >>> 0;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out.push(VOCABULARY[(state >>> 16) % VOCABULARY.length] ?? "x");
  }
  return out.join(" ");
}

// Mostly chat-sized, now and then empty or a pasted document far larger than any window share.
const textSpec = fc.record({
  words: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 150 }) },
    { weight: 3, arbitrary: fc.integer({ min: 150, max: 1_500 }) },
    { weight: 1, arbitrary: fc.integer({ min: 3_000, max: 30_000 }) },
  ),
  seed: fc.nat(),
});

const scenario = fc.record({
  model: fc.record({
    contextWindow: fc.oneof(fc.constantFrom(4_096, 8_192, 16_384, 32_768, 128_000), fc.integer({ min: 4_096, max: 131_072 })),
    maxOutputTokens: fc.integer({ min: 256, max: 16_384 }),
    tokenizer: fc.constantFrom<TokenizerFamily>(...TOKENIZER_FAMILIES),
  }),
  system: fc.option(textSpec, { nil: null }),
  summary: fc.option(fc.record({ text: textSpec, through: fc.double({ min: 0, max: 1, noNaN: true }) }), { nil: null }),
  passages: fc.array(fc.record({ text: textSpec, stored: fc.boolean() }), { maxLength: 12 }),
  passageShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  messages: fc.array(fc.record({ text: textSpec, stored: fc.boolean() }), { maxLength: 400, size: "max" }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const family = s.model.tokenizer;
  const history: HistoryMessage[] = s.messages.map((m, i) => {
    const content = textOf(m.text);
    const message = { seq: i + 1, role: i % 2 === 0 ? ("user" as const) : ("assistant" as const), content };
    if (!m.stored) return { ...message, tokens: null };
    // The count a message would have been stored with, taken on first read: the assembler reads
    // only the newest few, and counting all 400 up front would make this test slow.
    let stored: number | undefined;
    return {
      ...message,
      get tokens() {
        return (stored ??= countTextTokens(content, family));
      },
    };
  });
  const passages: ContextPassage[] = s.passages.map((p, i) => {
    const text = textOf(p.text);
    return p.stored ? { id: `p${i}`, text, tokens: countTextTokens(text, family) } : { id: `p${i}`, text };
  });
  const summary = s.summary && { text: textOf(s.summary.text), throughSeq: Math.floor(s.summary.through * history.length) };
  return { model: s.model, system: s.system && textOf(s.system), summary, passages, passageShare: s.passageShare, history };
}

/** The request's size from what is in it, not from the assembler's own arithmetic. */
function recount(context: AssembledContext<ContextPassage>, family: TokenizerFamily): number {
  let total = replyPrimingTokens(family);
  if (context.system !== null) total += countTextTokens(context.system, family) + messageOverheadTokens(family);
  for (const p of context.passages) total += countTextTokens(p.text, family) + PASSAGE_SEPARATOR_TOKENS;
  for (const m of context.messages) total += countTextTokens(m.content, family) + messageOverheadTokens(family);
  return total;
}

describe("assembleContext (property)", () => {
  it("never sends more than the window minus the reserved output, and keeps the conversation intact", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const input = build(s);
        const context = assembleContext(input);
        const family = input.model.tokenizer;

        const sent = recount(context, family);
        // Exact, but for the seam where the summary joins the system prompt, which is not counted
        // again: never under, over by the seam allowance (and the estimator's rounding) at most.
        expect(context.tokens.total - sent).toBeGreaterThanOrEqual(0);
        expect(context.tokens.total - sent).toBeLessThanOrEqual(context.summaryUsed && input.system?.trim() ? 2 : 0);
        expect(sent).toBeLessThanOrEqual(context.tokens.budget);
        expect(sent).toBeLessThanOrEqual(input.model.contextWindow - context.tokens.reservedOutput);

        // Passages: the best-ranked ones, as many as their share holds.
        expect(context.passages).toEqual(input.passages.slice(0, context.passages.length));
        const passageCost = (p: ContextPassage) => countTextTokens(p.text, family) + PASSAGE_SEPARATOR_TOKENS;
        const passageLimit = Math.floor(context.tokens.budget * Math.min(0.4, input.passageShare ?? 0.4));
        expect(context.tokens.passages).toBe(context.passages.reduce((sum, p) => sum + passageCost(p), 0));
        expect(context.tokens.passages).toBeLessThanOrEqual(passageLimit);
        const firstDropped = input.passages[context.passages.length];
        if (firstDropped) expect(context.tokens.passages + passageCost(firstDropped)).toBeGreaterThan(passageLimit);

        const { history } = input;
        const latest = history[history.length - 1];
        if (!latest) {
          expect(context.messages).toEqual([]);
          return;
        }
        // A contiguous run ending with the latest message, in order, each message once.
        const from = history.length - context.messages.length;
        expect(context.messages.map((m) => m.seq)).toEqual(history.slice(from).map((m) => m.seq));
        expect(context.includedFromSeq).toBe(history[from]?.seq);
        // Whole messages, except the latest, which may be cut around an explicit marker.
        context.messages.slice(0, -1).forEach((m, i) => expect(m.content).toBe(history[from + i]?.content));
        const sentLatest = context.messages[context.messages.length - 1]?.content ?? "";
        if (sentLatest !== latest.content) {
          expect(context.truncated).toBe(true);
          expect(context.messages).toHaveLength(1);
          expect(sentLatest).toMatch(/\[… [\d,]+ tokens omitted …\]/);
        }
        // Whatever is neither sent nor summarized is reported.
        if (context.summaryUsed && input.summary) {
          expect(context.messages.slice(0, -1).every((m) => m.seq > (input.summary?.throughSeq ?? 0))).toBe(true);
        }
        const covered = context.summaryUsed && input.summary ? input.summary.throughSeq : 0;
        const uncovered = history.filter((m) => m.seq > covered && m.seq < (context.includedFromSeq ?? 0)).length;
        expect(context.omittedMessages).toBe(uncovered);
        expect(context.needsSummaryThroughSeq).toBe(uncovered > 0 ? history[from - 1]?.seq : null);
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
