import { splitSentences } from "@/lib/retrieval/sentences";
import { fitText } from "./assemble";
import { countTextTokens, type TokenizerFamily } from "./tokens";

/**
 * The offline model's summary: no model call, just the opening sentences of each message, one line
 * per message, appended to the previous summary. Over the limit, the oldest lines go first — the
 * newest context matters most to the next turn.
 */

const LINE_WORDS = 40;
const LINE_SENTENCES = 2;

export type SummarySource = { role: "user" | "assistant"; content: string };

function lead(content: string): string {
  const sentences = splitSentences(content).slice(0, LINE_SENTENCES).map((s) => s.text);
  const words = sentences.join(" ").split(" ");
  return words.length > LINE_WORDS ? `${words.slice(0, LINE_WORDS).join(" ")} …` : words.join(" ");
}

export function extractiveSummary(input: { previous: string | null; messages: SummarySource[]; maxTokens: number; family: TokenizerFamily }): string {
  const lines = input.previous?.trim() ? input.previous.trim().split("\n") : [];
  for (const message of input.messages) {
    const text = lead(message.content);
    if (text) lines.push(`- ${message.role === "user" ? "User" : "Assistant"}: ${text}`);
  }
  while (lines.length > 1 && countTextTokens(lines.join("\n"), input.family) > input.maxTokens) lines.shift();
  return fitText(lines.join("\n"), input.family, input.maxTokens).text;
}
