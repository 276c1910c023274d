import { describe, expect, it } from "vitest";
import { fitText } from "./fit-text";
import { assembleContext, contextBudget, summaryCutoff, summaryTokenLimit, SUMMARY_HEADING, type ContextModel, type HistoryMessage } from "./assemble";
import { extractiveSummary } from "./extractive-summary";
import { countTextTokens } from "./tokens";

const GPT_4O: ContextModel = { contextWindow: 128_000, maxOutputTokens: 16_384, tokenizer: "o200k" };
const SMALL: ContextModel = { contextWindow: 8_192, maxOutputTokens: 4_096, tokenizer: "cl100k" };

function sentence(i: number): string {
  return `Message ${i} talks about budgets, windows and the reply that follows it in some detail.`;
}

/** `count` alternating messages of roughly `words` words each, with stored counts. */
function conversation(count: number, model: ContextModel, words = 60): HistoryMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const content = Array.from({ length: Math.ceil(words / 14) }, () => sentence(i + 1)).join(" ");
    return { seq: i + 1, role: i % 2 === 0 ? "user" : "assistant", content, tokens: countTextTokens(content, model.tokenizer) };
  });
}

describe("assembleContext", () => {
  it("sends a conversation that fits verbatim, without the summary", () => {
    const history = conversation(9, GPT_4O);
    const context = assembleContext({
      model: GPT_4O,
      system: "Be brief.",
      summary: { text: "They discussed budgets.", throughSeq: 4 },
      passages: [],
      history,
    });
    expect(context.messages.map((m) => m.seq)).toEqual(history.map((m) => m.seq));
    expect(context.summaryUsed).toBe(false);
    expect(context.system).toBe("Be brief.");
    expect(context).toMatchObject({ includedFromSeq: 1, omittedMessages: 0, needsSummaryThroughSeq: null, truncated: false });
  });

  it("keeps the newest whole messages on a small model and names what needs summarizing", () => {
    const history = conversation(200, SMALL);
    const context = assembleContext({ model: SMALL, system: null, summary: null, passages: [], history });
    const first = history.findIndex((m) => m.seq === context.includedFromSeq);
    expect(first).toBeGreaterThan(100);
    expect(context.messages.map((m) => m.content)).toEqual(history.slice(first).map((m) => m.content));
    expect(context.omittedMessages).toBe(first);
    expect(context.needsSummaryThroughSeq).toBe(history[first - 1]?.seq);
    expect(context.tokens.total).toBeLessThanOrEqual(context.tokens.budget);
    // Nearly full: the next older message would not have fitted.
    expect(context.tokens.total + (history[first - 1]?.tokens ?? 0)).toBeGreaterThan(context.tokens.budget - 8);
  });

  it("puts the summary right after the system prompt and sends only what follows it", () => {
    const history = conversation(200, SMALL);
    const context = assembleContext({
      model: SMALL,
      system: "Be brief.",
      summary: { text: "Earlier they agreed on a budget.", throughSeq: 190 },
      passages: [],
      history,
    });
    expect(context.system).toBe(`Be brief.\n\n${SUMMARY_HEADING}\nEarlier they agreed on a budget.`);
    expect(context.summaryUsed).toBe(true);
    expect(context.messages.map((m) => m.seq)).toEqual(history.slice(190).map((m) => m.seq));
    expect(context).toMatchObject({ includedFromSeq: 191, omittedMessages: 0, needsSummaryThroughSeq: null });
    expect(context.tokens.summary).toBeGreaterThan(0);
  });

  it("reports the gap when the summary is too old to reach the window", () => {
    const history = conversation(200, SMALL);
    const context = assembleContext({ model: SMALL, system: null, summary: { text: "Old news.", throughSeq: 10 }, passages: [], history });
    expect(context.summaryUsed).toBe(true);
    const firstIncluded = context.includedFromSeq ?? 0;
    expect(context.omittedMessages).toBe(firstIncluded - 11);
    expect(context.needsSummaryThroughSeq).toBe(firstIncluded - 1);
  });

  it("cuts an oversized latest message head-and-tail with a marker, and sends it alone", () => {
    const history = conversation(6, SMALL);
    const pasted = `START ${"lorem ipsum dolor sit amet ".repeat(4_000)} END`;
    history.push({ seq: 7, role: "user", content: pasted, tokens: countTextTokens(pasted, "cl100k") });
    const context = assembleContext({ model: SMALL, system: "Be brief.", summary: null, passages: [], history });
    expect(context.truncated).toBe(true);
    expect(context.messages).toHaveLength(1);
    const sent = context.messages[0]?.content ?? "";
    expect(sent.startsWith("START lorem ipsum")).toBe(true);
    expect(sent.endsWith("sit amet  END")).toBe(true);
    expect(sent).toMatch(/\n\n\[… [\d,]+ tokens omitted …\]\n\n/);
    expect(context.tokens.total).toBeLessThanOrEqual(context.tokens.budget);
    expect(context.needsSummaryThroughSeq).toBe(6);
  });

  it("caps passages at their share, dropping the lowest-ranked first", () => {
    const passages = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, text: sentence(i).repeat(40), filename: `doc${i}.pdf` }));
    const context = assembleContext({ model: SMALL, system: null, summary: null, passages, passageShare: 0.4, history: conversation(3, SMALL) });
    expect(context.passages.length).toBeGreaterThan(0);
    expect(context.passages.length).toBeLessThan(passages.length);
    expect(context.passages).toEqual(passages.slice(0, context.passages.length));
    expect(context.passages[0]?.filename).toBe("doc0.pdf");
    expect(context.tokens.passages).toBeLessThanOrEqual(Math.floor(context.tokens.budget * 0.4));
  });

  it("trusts stored counts and counts only what has none", () => {
    const history = conversation(4, SMALL, 20);
    const first = history[0];
    if (first) first.tokens = 100_000; // a count says it cannot fit, so it is left out unread
    const context = assembleContext({ model: SMALL, system: null, summary: null, passages: [], history });
    expect(context.includedFromSeq).toBe(2);
    const uncounted = assembleContext({ model: SMALL, system: null, summary: null, passages: [], history: history.map((m) => ({ ...m, tokens: null })) });
    expect(uncounted.includedFromSeq).toBe(1);
    expect(uncounted.tokens.history).toBe(context.tokens.history + countTextTokens(history[0]?.content ?? "", "cl100k") + 4);
  });

  it("cuts a system prompt larger than its share", () => {
    const context = assembleContext({ model: SMALL, system: "Rule. ".repeat(20_000), summary: null, passages: [], history: conversation(2, SMALL) });
    expect(context.truncated).toBe(true);
    expect(context.tokens.system).toBeLessThanOrEqual(Math.floor(context.tokens.budget * 0.25));
    expect(context.messages).toHaveLength(2);
  });

  it("reserves the reply's tokens and a margin by default, and refuses a window too small to use", () => {
    const context = assembleContext({ model: SMALL, system: null, summary: null, passages: [], history: [] });
    expect(context.tokens).toMatchObject({ window: 8_192, reservedOutput: 2_048, budget: 8_192 - 2_048 - (164 + 64) });
    expect(context.messages).toEqual([]);
    expect(context.includedFromSeq).toBeNull();
    expect(() => assembleContext({ model: { ...SMALL, contextWindow: 300 }, system: null, summary: null, passages: [], history: [] })).toThrow(RangeError);
  });
});

describe("fitText", () => {
  it("never splits a surrogate pair", () => {
    const text = "🙂".repeat(5_000);
    const fitted = fitText(text, "o200k", 301);
    expect(fitted.cut).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(301);
    expect(fitted.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it("fits 32,000 characters of CJK into a small budget with a bounded amount of counting", () => {
    let state = 3;
    const ideograph = () => String.fromCharCode(0x4e00 + ((state = (state * 1103515245 + 12345) % 2147483648) % 20_000));
    const text = Array.from({ length: 32_000 }, ideograph).join("");
    for (const family of ["o200k", "cl100k"] as const) {
      countTextTokens("warm the tables up", family);
      const started = performance.now();
      const fitted = fitText(text, family, 2_000);
      // Every candidate used to be counted again in full (seconds with gpt-tokenizer's merge).
      expect(performance.now() - started).toBeLessThan(250);
      expect(fitted.cut).toBe(true);
      expect(fitted.tokens).toBeLessThanOrEqual(2_000);
      // The room is used, not thrown away: head and tail fill most of it.
      expect(fitted.tokens).toBeGreaterThan(1_500);
      expect(fitted.text.startsWith(text.slice(0, 100))).toBe(true);
      expect(fitted.text.endsWith(text.slice(-100))).toBe(true);
    }
  });

  it("leaves text that fits alone", () => {
    expect(fitText("short", "estimate", 100)).toEqual({ text: "short", tokens: countTextTokens("short", "estimate"), cut: false });
  });
});

describe("assembleContext with a history that starts after the summary", () => {
  it("always sends the summary in place of the messages the caller left out", () => {
    const history = conversation(30, GPT_4O).slice(10);
    const context = assembleContext({ model: GPT_4O, system: "Be brief.", summary: { text: "Ten messages about valves.", throughSeq: 10 }, passages: [], history });
    expect(context.summaryUsed).toBe(true);
    expect(context.system).toBe(`Be brief.\n\n${SUMMARY_HEADING}\nTen messages about valves.`);
    expect(context.includedFromSeq).toBe(11);
    expect(context.omittedMessages).toBe(0);
  });
});

describe("summaryCutoff", () => {
  it("leaves a history with room alone", () => {
    expect(summaryCutoff({ model: SMALL, fixedTokens: 100, history: conversation(6, SMALL) })).toBeNull();
  });

  it("past the high-water mark, covers the oldest messages so that about half the room stays verbatim", () => {
    const history = conversation(80, SMALL);
    const room = contextBudget(SMALL) - summaryTokenLimit(SMALL) - 100 - 3;
    const cutoff = summaryCutoff({ model: SMALL, fixedTokens: 100, history });
    expect(cutoff).not.toBeNull();
    const kept = history.filter((m) => m.seq > cutoff!);
    const keptTokens = kept.reduce((sum, m) => sum + m.tokens! + 4, 0);
    expect(keptTokens).toBeLessThanOrEqual(room * 0.5);
    // …and not much less: one more message would pass the low-water mark.
    const oneMore = history.find((m) => m.seq === cutoff)!;
    expect(keptTokens + oneMore.tokens! + 4).toBeGreaterThan(room * 0.5);
  });

  it("keeps the last exchange verbatim even when it alone is large", () => {
    const huge = "word ".repeat(6_000);
    const history: HistoryMessage[] = [
      ...conversation(4, SMALL),
      { seq: 5, role: "user", content: huge, tokens: countTextTokens(huge, "cl100k") },
      { seq: 6, role: "assistant", content: "ok", tokens: 1 },
    ];
    expect(summaryCutoff({ model: SMALL, fixedTokens: 0, history })).toBe(4);
  });
});

describe("extractiveSummary", () => {
  it("adds one line per message to the previous summary and drops the oldest lines to stay under the limit", () => {
    const messages = Array.from({ length: 40 }, (_, i) => ({
      role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
      content: `Point ${i} is about the pressure valve number ${i}. A second sentence. A third one that is left out.`,
    }));
    const summary = extractiveSummary({ previous: "- User: earlier things", messages, maxTokens: 200, family: "o200k" });
    expect(countTextTokens(summary, "o200k")).toBeLessThanOrEqual(200);
    const lines = summary.split("\n");
    expect(lines.at(-1)).toBe("- Assistant: Point 39 is about the pressure valve number 39. A second sentence.");
    expect(summary).not.toContain("earlier things");
    expect(summary).not.toContain("third one");
  });

  it("summarizes many long messages with each line counted once", () => {
    // Whole messages of a script without spaces: one "word" each, so only a length cap shortens them.
    const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 === 0 ? ("user" as const) : ("assistant" as const), content: `第${i}条消息。`.repeat(2_000) }));
    const started = performance.now();
    const summary = extractiveSummary({ previous: null, messages, maxTokens: 1_000, family: "o200k" });
    expect(performance.now() - started).toBeLessThan(500);
    expect(countTextTokens(summary, "o200k")).toBeLessThanOrEqual(1_000);
    expect(summary.split("\n").at(-1)).toMatch(/^- Assistant: 第399条消息。/);
  });
});
