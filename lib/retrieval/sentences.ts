/**
 * Picks the sentences of a passage that share the most words with a question (a light,
 * stemming-free overlap: words compared on their first six letters). Used for citation snippets
 * (and their exact page) and for the offline model's extractive answers.
 */

const WORD = /[\p{L}\p{N}]{3,}/gu;
const stem = (word: string) => word.toLowerCase().slice(0, 6);

export type SentenceSpan = { start: number; end: number; text: string };

/** Sentences with their character range in `text`; whitespace inside is collapsed in `text`. */
export function splitSentences(text: string): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  const boundary = /(?<=[.!?])\s+|\n+/g;
  let start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const clean = raw.replace(/\s+/g, " ").trim();
    if (clean) spans.push({ start: start + lead, end: start + raw.trimEnd().length, text: clean });
  };
  for (let match = boundary.exec(text); match; match = boundary.exec(text)) {
    push(match.index);
    start = match.index + match[0].length;
  }
  push(text.length);
  return spans;
}

/** Up to `count` sentences, chosen best first by overlap, returned in their original order. */
export function bestSentenceSpans(text: string, question: string, count: number): SentenceSpan[] {
  const wanted = new Set((question.match(WORD) ?? []).map(stem));
  const scored = splitSentences(text).map((span, i) => ({
    span,
    i,
    hits: new Set((span.text.match(WORD) ?? []).map(stem).filter((w) => wanted.has(w))).size,
  }));
  const top = [...scored].sort((a, b) => b.hits - a.hits || a.i - b.i).slice(0, Math.max(1, count));
  return top.sort((a, b) => a.i - b.i).map((s) => s.span);
}

export function bestSentences(text: string, question: string, count: number): string[] {
  return bestSentenceSpans(text, question, count).map((s) => s.text);
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
