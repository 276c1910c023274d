import { fitText, fitTextAsync, type FittedText } from "./fit-text";
import { countMessageTokens, countTextTokens, messageOverheadTokens, replyPrimingTokens, type TokenizerFamily } from "./tokens";

/**
 * What one model request carries, fitted to the model's context window. Budget = window − the
 * output reserved for the reply − a safety margin. It is filled in priority order: the system
 * prompt, the conversation summary, retrieved passages (capped share, lowest-ranked dropped first),
 * then the newest turns as whole messages, newest first, always including the latest. Pure: the
 * caller loads the inputs and acts on `needsSummaryThroughSeq`.
 */

export type ContextModel = { contextWindow: number; maxOutputTokens: number; tokenizer: TokenizerFamily };

/** `tokens`: the content's stored count, taken in the model's tokenizer family (null: count now). */
export type HistoryMessage = { seq: number; role: "user" | "assistant"; content: string; tokens: number | null };

/** `text` (or `tokens`) is the passage as it will appear in the prompt, its markers included. */
export type ContextPassage = { id: string; text: string; tokens?: number };

export type AssembleContextInput<P extends ContextPassage> = {
  model: ContextModel;
  /** Default: the model's output limit, at most 4,096 and a quarter of the window. */
  reservedOutputTokens?: number;
  /** Default: 2 % of the window + 64, for counting error and provider-side framing. */
  safetyMargin?: number;
  system: string | null;
  /** `system`'s count, when the caller has it (a long one is counted off the event loop's way). */
  systemTokens?: number;
  /** A summary of every message up to and including `throughSeq`. */
  summary: { text: string; throughSeq: number } | null;
  /** Best first. */
  passages: P[];
  /** Share of the budget passages may use (default and most: 0.4). */
  passageShare?: number;
  /** Oldest first; the last entry is the message being answered. */
  history: HistoryMessage[];
};

export type AssembledContext<P extends ContextPassage> = {
  /** The system prompt with the summary block after it: a stable prefix for provider prompt caches. */
  system: string | null;
  passages: P[];
  messages: Array<{ seq: number; role: "user" | "assistant"; content: string }>;
  includedFromSeq: number | null;
  summaryUsed: boolean;
  /** Messages older than the window that the summary does not cover. */
  omittedMessages: number;
  /** The newest message that fell out uncovered: summarize through it before the next turn. */
  needsSummaryThroughSeq: number | null;
  tokens: {
    system: number;
    summary: number;
    passages: number;
    history: number;
    total: number;
    budget: number;
    window: number;
    reservedOutput: number;
  };
  /** The system prompt, the summary or the latest message was cut to fit. */
  truncated: boolean;
};

// Shares of the budget. Whatever they take, a fifth is left for the latest message.
const SYSTEM_SHARE = 0.25;
const SUMMARY_SHARE = 0.15;
const MAX_PASSAGE_SHARE = 1 - SYSTEM_SHARE - SUMMARY_SHARE - 0.2;
/** Allowance for the separator between passages when the caller joins them. */
export const PASSAGE_SEPARATOR_TOKENS = 2;
const MIN_BUDGET = 256;
/** Two counted texts joined count at most this much more than their sum (measured: see bpe-count.mjs). */
const SEAM_ALLOWANCE = 1;

export const SUMMARY_HEADING = "Summary of the earlier conversation (older messages are not shown):";

export function defaultReservedOutputTokens(model: ContextModel): number {
  return Math.min(model.maxOutputTokens, 4_096, Math.floor(model.contextWindow / 4));
}

export function defaultSafetyMargin(contextWindow: number): number {
  return Math.ceil(contextWindow * 0.02) + 64;
}

/** Tokens a request may carry: the window less the reserved output and the safety margin. */
export function contextBudget(model: ContextModel, reservedOutputTokens = defaultReservedOutputTokens(model), safetyMargin = defaultSafetyMargin(model.contextWindow)): number {
  return model.contextWindow - reservedOutputTokens - safetyMargin;
}

/** Most tokens the system prompt may take in a request, its framing excluded. */
export function systemTokenLimit(model: ContextModel, reservedOutputTokens?: number, safetyMargin?: number): number {
  return Math.floor(contextBudget(model, reservedOutputTokens, safetyMargin) * SYSTEM_SHARE) - messageOverheadTokens(model.tokenizer);
}

/**
 * The system prompt fitted to its share of `model`'s budget, counted in slices that yield to the
 * event loop (a chat completion's system messages can fill a request body); spread the result
 * into assembleContext's input so that it counts nothing large itself.
 */
export async function fitSystemPrompt(system: string | null, model: ContextModel, reservedOutputTokens: number): Promise<{ system: string | null; systemTokens?: number }> {
  if (!system?.trim()) return { system };
  const fitted = await fitTextAsync(system, model.tokenizer, systemTokenLimit(model, reservedOutputTokens));
  return { system: fitted.text, systemTokens: fitted.tokens };
}

/** Most tokens a summary may take in a request, its heading included. */
export function summaryTokenLimit(model: ContextModel): number {
  return Math.floor(contextBudget(model) * SUMMARY_SHARE);
}

export function assembleContext<P extends ContextPassage>(input: AssembleContextInput<P>): AssembledContext<P> {
  const { model, history } = input;
  const family = model.tokenizer;
  const overhead = messageOverheadTokens(family);
  const reservedOutput = input.reservedOutputTokens ?? defaultReservedOutputTokens(model);
  const budget = contextBudget(model, reservedOutput, input.safetyMargin);
  if (budget < MIN_BUDGET) {
    throw new RangeError(`A ${model.contextWindow}-token window leaves ${budget} tokens after the reserved output and margin.`);
  }

  const systemText = input.system?.trim() ? input.system : null;
  const systemPart = systemText === null ? null : fitText(systemText, family, systemTokenLimit(model, reservedOutput, input.safetyMargin), input.systemTokens);
  const systemTokens = systemPart ? systemPart.tokens + overhead : 0;

  const passageShare = Math.min(MAX_PASSAGE_SHARE, Math.max(0, input.passageShare ?? MAX_PASSAGE_SHARE));
  const passageLimit = Math.floor(budget * passageShare);
  const passages: P[] = [];
  let passageTokens = 0;
  for (const passage of input.passages) {
    const cost = (passage.tokens ?? countTextTokens(passage.text, family)) + PASSAGE_SEPARATOR_TOKENS;
    if (passageTokens + cost > passageLimit) break;
    passages.push(passage);
    passageTokens += cost;
  }

  const fixed = replyPrimingTokens(family) + passageTokens;
  const costs = new Array<number | undefined>(history.length);
  const costOf = (index: number, message: HistoryMessage) =>
    (costs[index] ??= countMessageTokens(message, family));

  // The whole conversation verbatim when it fits; otherwise the summary and what follows it.
  let turns = fitHistory(history, 0, budget - fixed - systemTokens, costOf, family);
  let summaryBlock: FittedText | null = null;
  let blockTokens = systemTokens;
  const summary = input.summary;
  // The summary stands in for whatever the verbatim turns do not reach: messages that did not fit,
  // and those the caller left out of `history` because the summary covers them.
  if (summary && summary.text.trim() && (turns.from > 0 || (history[0]?.seq ?? 0) > summary.throughSeq)) {
    summaryBlock = fitText(`${SUMMARY_HEADING}\n${summary.text}`, family, Math.floor(budget * SUMMARY_SHARE));
    // The system prompt is not counted again: joined to the summary, its count can change by one
    // token at the seam, which the allowance covers.
    blockTokens = systemPart
      ? systemPart.tokens + countTextTokens(`\n\n${summaryBlock.text}`, family) + SEAM_ALLOWANCE + overhead
      : summaryBlock.tokens + overhead;
    turns = fitHistory(history, firstAfter(history, summary.throughSeq), budget - fixed - blockTokens, costOf, family);
  }

  const coveredUpTo = summaryBlock && summary ? firstAfter(history, summary.throughSeq) : 0;
  const omittedMessages = Math.max(0, turns.from - coveredUpTo);
  return {
    system: joinBlocks(systemPart?.text ?? null, summaryBlock?.text ?? null),
    passages,
    messages: turns.messages,
    includedFromSeq: turns.messages[0]?.seq ?? null,
    summaryUsed: summaryBlock !== null,
    omittedMessages,
    needsSummaryThroughSeq: omittedMessages > 0 ? (history[turns.from - 1]?.seq ?? null) : null,
    tokens: {
      system: systemTokens,
      summary: blockTokens - systemTokens,
      passages: passageTokens,
      history: turns.tokens,
      total: fixed + blockTokens + turns.tokens,
      budget,
      window: model.contextWindow,
      reservedOutput,
    },
    truncated: Boolean(systemPart?.cut || summaryBlock?.cut || turns.latestCut),
  };
}

type HistoryWindow = {
  from: number;
  messages: AssembledContext<ContextPassage>["messages"];
  tokens: number;
  latestCut: boolean;
};

/**
 * The newest messages that fit in `room`, whole and contiguous, walking back no further than
 * `start`. The latest message is always included, cut head-and-tail when it alone is too large.
 */
function fitHistory(
  history: HistoryMessage[],
  start: number,
  room: number,
  costOf: (index: number, message: HistoryMessage) => number,
  family: TokenizerFamily,
): HistoryWindow {
  const lastIndex = history.length - 1;
  const latest = history[lastIndex];
  if (!latest) return { from: 0, messages: [], tokens: 0, latestCut: false };

  const overhead = messageOverheadTokens(family);
  let used = costOf(lastIndex, latest);
  let latestContent = latest.content;
  let latestCut = false;
  if (used > room) {
    const fitted = fitText(latest.content, family, room - overhead, used - overhead);
    latestContent = fitted.text;
    latestCut = true;
    used = fitted.tokens + overhead;
  }

  let from = lastIndex;
  if (!latestCut) {
    for (let i = lastIndex - 1; i >= start; i--) {
      const message = history[i];
      if (!message) break;
      const cost = costOf(i, message);
      if (used + cost > room) break;
      used += cost;
      from = i;
    }
  }
  const messages = history.slice(from).map((m) => ({ seq: m.seq, role: m.role, content: m.content }));
  const last = messages[messages.length - 1];
  if (last) last.content = latestContent;
  return { from, messages, tokens: used, latestCut };
}

/** Index of the first message after `seq` (history is in seq order); the latest at the least. */
function firstAfter(history: HistoryMessage[], seq: number): number {
  let low = 0;
  let high = history.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((history[mid]?.seq ?? Infinity) > seq) high = mid;
    else low = mid + 1;
  }
  return Math.max(0, high);
}

function joinBlocks(system: string | null, summary: string | null): string | null {
  if (system && summary) return `${system}\n\n${summary}`;
  return system ?? summary;
}

// Summaries are written when the unsummarized history passes the high-water mark of the room it
// has, and then cover enough that only the low-water share stays verbatim: one summary every few
// turns instead of one per turn, and room left for the next message.
const SUMMARY_HIGH_WATER = 0.8;
const SUMMARY_LOW_WATER = 0.5;
const KEEP_VERBATIM = 2;

/**
 * After a reply: the seq the summary should cover through so that the next turns keep fitting,
 * or null when the unsummarized history still has room. `history`: the messages after the current
 * summary, oldest first, the reply included; `fixedTokens`: the system prompt and passages of the
 * turn just answered, as an estimate of the next one's.
 */
export function summaryCutoff(input: { model: ContextModel; fixedTokens: number; history: HistoryMessage[] }): number | null {
  const { model, history } = input;
  const family = model.tokenizer;
  const room = contextBudget(model) - summaryTokenLimit(model) - input.fixedTokens - replyPrimingTokens(family);
  const cost = (m: HistoryMessage) => countMessageTokens(m, family);
  let total = 0;
  for (const message of history) total += cost(message);
  if (history.length <= KEEP_VERBATIM || total <= room * SUMMARY_HIGH_WATER) return null;

  let kept = 0;
  let index = history.length - 1;
  for (let n = 0; index >= 0; index--, n++) {
    const next = kept + cost(history[index]!);
    if (n >= KEEP_VERBATIM && next > room * SUMMARY_LOW_WATER) break;
    kept = next;
  }
  return index >= 0 ? history[index]!.seq : null;
}
