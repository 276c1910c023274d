import { countTextTokens, countTextTokensAsync, tokenBoundaries, tokenBoundariesAsync, type TokenBoundaries, type TokenizerFamily } from "./tokens";

/**
 * Fitting a text to a token budget: the text itself when it fits, otherwise its head and tail
 * around an explicit omission marker. Linear in the text: its cut points are counted once and the
 * candidates picked from them, each checked by one count of the (budget-sized) result. The plan is
 * written once as a generator that asks for counts; fitText answers them synchronously (texts the
 * caller bounds), fitTextAsync by counting in slices that yield to the event loop (texts a request
 * brings, such as the system messages of a chat completion).
 */

export type FittedText = { text: string; tokens: number; cut: boolean };

type Ask = { count: string } | { cuts: string };
type Plan = Generator<Ask, FittedText, unknown>;

export function omissionMarker(tokens: number): string {
  return `\n\n[… ${tokens.toLocaleString("en-US")} tokens omitted …]\n\n`;
}

export function fitText(text: string, family: TokenizerFamily, maxTokens: number, knownTokens?: number): FittedText {
  const plan = fitPlan(text, family, maxTokens, knownTokens);
  for (let step = plan.next(); ; ) {
    if (step.done) return step.value;
    const ask = step.value;
    step = plan.next("count" in ask ? countTextTokens(ask.count, family) : tokenBoundaries(ask.cuts, family));
  }
}

export async function fitTextAsync(text: string, family: TokenizerFamily, maxTokens: number, knownTokens?: number): Promise<FittedText> {
  const plan = fitPlan(text, family, maxTokens, knownTokens);
  for (let step = plan.next(); ; ) {
    if (step.done) return step.value;
    const ask = step.value;
    step = plan.next("count" in ask ? await countTextTokensAsync(ask.count, family) : await tokenBoundariesAsync(ask.cuts, family));
  }
}

function* fitPlan(text: string, family: TokenizerFamily, maxTokens: number, knownTokens?: number): Plan {
  const tokens = knownTokens ?? ((yield { count: text }) as number);
  if (tokens <= maxTokens) return { text, tokens, cut: false };
  const marker = omissionMarker(tokens);
  const markerTokens = (yield { count: marker }) as number;
  const cuts = (yield { cuts: text }) as TokenBoundaries | null;
  // Joining head, marker and tail can merge a token or two across the seams: aim a little under.
  let room = maxTokens - markerTokens - 4;
  for (let attempt = 0; attempt < 8 && room > 0; attempt++) {
    const head = cuts ? cutAt(cuts, Math.ceil(room / 2), "head", text) : yield* proportionalCut(text, tokens, Math.ceil(room / 2), "head");
    const tail = cuts ? cutAt(cuts, Math.floor(room / 2), "tail", text) : yield* proportionalCut(text, tokens, Math.floor(room / 2), "tail");
    const candidate = text.slice(0, head.index) + omissionMarker(Math.max(0, tokens - head.tokens - tail.tokens)) + text.slice(tail.index);
    const count = (yield { count: candidate }) as number;
    if (count <= maxTokens) return { text: candidate, tokens: count, cut: true };
    room -= Math.max(count - maxTokens, Math.ceil(room * 0.05));
  }
  return markerTokens <= maxTokens ? { text: marker, tokens: markerTokens, cut: true } : { text: "", tokens: 0, cut: true };
}

type Cut = { index: number; tokens: number };

/**
 * Near `budget` tokens from one end. Pre-token ends split the count exactly; between two of them
 * (a long run is cut every 512 characters) the cut is placed in proportion, and the candidate's
 * own count decides whether it fits.
 */
function cutAt({ ends, tokens, length, total }: TokenBoundaries, budget: number, side: "head" | "tail", text: string): Cut {
  // In counts from the start: the head holds up to `target`, the tail what lies after it.
  const target = side === "head" ? budget : total - budget;
  let low = -1; // the last end whose count is at most target
  let high = length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((tokens[mid] ?? 0) <= target) low = mid;
    else high = mid - 1;
  }
  const startIndex = low < 0 ? 0 : (ends[low] ?? 0);
  const startCount = low < 0 ? 0 : (tokens[low] ?? 0);
  const nextIndex = ends[low + 1] ?? text.length;
  const nextCount = tokens[low + 1] ?? total;
  const share = nextCount > startCount ? (target - startCount) / (nextCount - startCount) : 0;
  const index = side === "head"
    ? boundary(text, startIndex + Math.floor(share * (nextIndex - startIndex)))
    : boundary(text, startIndex + Math.ceil(share * (nextIndex - startIndex)));
  return { index, tokens: budget };
}

/** The estimator has no cut points: cut in proportion to length (counting it again costs little). */
function* proportionalCut(text: string, tokens: number, budget: number, side: "head" | "tail"): Generator<Ask, Cut, unknown> {
  const chars = Math.floor((text.length * budget) / tokens);
  const index = side === "head" ? boundary(text, chars) : boundary(text, text.length - chars);
  const count = (yield { count: side === "head" ? text.slice(0, index) : text.slice(index) }) as number;
  return { index, tokens: count };
}

/** A cut position that does not split a surrogate pair. */
function boundary(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff ? index + 1 : index;
}
