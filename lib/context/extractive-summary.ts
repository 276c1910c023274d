import { splitSentences, truncate } from "@/lib/retrieval/sentences";
import { fitText } from "./fit-text";
import { countTextTokens, type TokenizerFamily } from "./tokens";

/**
 * The offline model's summary: no model call, just the opening sentences of each message, one line
 * per message, appended to the previous summary. Over the limit, the oldest lines go first — the
 * newest context matters most to the next turn.
 */

const LINE_WORDS = 40;
const LINE_SENTENCES = 2;
/** Also in characters: a "word" of a script written without spaces can be a whole message. */
const LINE_CHARS = 400;

export type SummarySource = { role: "user" | "assistant"; content: string };

function lead(content: string): string {
  const sentences = splitSentences(content).slice(0, LINE_SENTENCES).map((s) => s.text);
  const words = sentences.join(" ").split(" ");
  return truncate(words.length > LINE_WORDS ? `${words.slice(0, LINE_WORDS).join(" ")} …` : words.join(" "), LINE_CHARS);
}

export function extractiveSummary(input: { previous: string | null; messages: SummarySource[]; maxTokens: number; family: TokenizerFamily }): string {
  const lines = input.previous?.trim() ? input.previous.trim().split("\n") : [];
  for (const message of input.messages) {
    const text = lead(message.content);
    if (text) lines.push(`- ${message.role === "user" ? "User" : "Assistant"}: ${text}`);
  }
  // Each line counted once (joining lines adds at most one token per seam): dropping the oldest
  // line no longer recounts everything after it.
  const costs = lines.map((line) => countTextTokens(line, input.family) + 1);
  let total = costs.reduce((sum, cost) => sum + cost, 0);
  let first = 0;
  while (lines.length - first > 1 && total > input.maxTokens) total -= costs[first++] ?? 0;
  return fitText(lines.slice(first).join("\n"), input.family, input.maxTokens).text;
}
