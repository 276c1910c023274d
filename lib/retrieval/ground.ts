import { countTextTokens } from "@/lib/context/tokens";
import type { PromptPassage } from "@/lib/ai/prompts";
import { listAttachedDocuments, listChunksOnPage } from "@/lib/db/queries/documents";
import type { CitationPart, Document, RetrievalPart } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics";
import { searchChunksWithStats, type RetrievedChunk } from "./search";
import { bestSentenceSpans, truncate } from "./sentences";

/**
 * Grounding for one user message in a grounded conversation: which documents may be searched,
 * whether they are ready, the search query, the passages that clear the relevance threshold
 * (adjacent chunks merged), their citations and the retrieval trace.
 */

export type Passage = PromptPassage & {
  documentId: string;
  chunkId: string;
  charStart: number;
  charEnd: number;
  score: number;
};

export type Grounding =
  | { kind: "blocked"; reason: "no_documents" | "not_ready" | "all_failed"; reply: string }
  | { kind: "retrieved"; question: string; passages: Passage[]; citations: CitationPart[]; trace: RetrievalPart };

/** Below this share of the query's attainable BM25 score a chunk is not evidence. */
const MIN_COVERAGE = 0.25;
/** …nor below this share of the best chunk's score. */
const MIN_RELATIVE = 0.3;
const SNIPPET_CHARS = 280;

const FOLLOW_UP = /\b(it|its|this|that|these|those|they|them|their|he|she|next|previous|above|below|more|else|same|also|again|why|how so)\b/i;

/** The search query: the message, plus the previous question when this one leans on it. */
function buildQuery(content: string, previousQuestion: string | null): string {
  if (!previousQuestion) return content;
  const words = content.match(/[\p{L}\p{N}]{3,}/gu) ?? [];
  return words.length < 4 || FOLLOW_UP.test(content) ? `${content}\n${previousQuestion}` : content;
}

/** A page the message points at: "page 12", "p. 12", or the next/previous page of the last answer. */
function referencedPage(content: string, lastCitation: CitationPart | undefined): { page: number; documentId: string | null } | null {
  const explicit = /\b(?:page|p\.)\s*(\d{1,5})\b/i.exec(content);
  if (explicit?.[1]) return { page: Number(explicit[1]), documentId: null };
  if (!lastCitation) return null;
  if (/\b(next|following) page\b/i.test(content)) return { page: lastCitation.pageEnd + 1, documentId: lastCitation.documentId };
  if (/\b(previous|preceding|prior) page\b/i.test(content)) return { page: Math.max(1, lastCitation.pageStart - 1), documentId: lastCitation.documentId };
  return null;
}

function describeProgress(documents: Document[]): string {
  return documents
    .map((d) => (d.status === "processing" ? `“${d.filename}” (${Math.round(d.progress * 100)}% indexed)` : `“${d.filename}” (queued)`))
    .join(", ");
}

/** The page holding a character offset of a document's text (page offsets from ingestion). */
function pageAtOffset(pageOffsets: number[] | null, offset: number): number | null {
  if (!pageOffsets || pageOffsets.length === 0) return null;
  let page = 1;
  for (let i = 0; i < pageOffsets.length; i++) {
    if ((pageOffsets[i] ?? Infinity) <= offset) page = i + 1;
    else break;
  }
  return page;
}

/**
 * The citation for a passage: its best sentence for the question as the snippet, and the exact
 * page(s) of that sentence — a passage can run over several short pages; the evidence is on one.
 */
function citeSnippet(passage: Passage, question: string, pageOffsets: number[] | null): { snippet: string; pageStart: number; pageEnd: number } {
  const span = bestSentenceSpans(passage.content, question, 1)[0];
  if (!span) return { snippet: truncate(passage.content, SNIPPET_CHARS), pageStart: passage.pageStart, pageEnd: passage.pageEnd };
  const clamp = (page: number | null, fallback: number) => Math.min(passage.pageEnd, Math.max(passage.pageStart, page ?? fallback));
  const pageStart = clamp(pageAtOffset(pageOffsets, passage.charStart + span.start), passage.pageStart);
  const pageEnd = Math.max(pageStart, clamp(pageAtOffset(pageOffsets, passage.charStart + span.end - 1), passage.pageEnd));
  return { snippet: truncate(span.text, SNIPPET_CHARS), pageStart, pageEnd };
}

/** Inserts a `[page N]` line where each page after the first begins inside the passage. */
function markPageStarts(passage: Pick<Passage, "content" | "charStart" | "charEnd">, pageOffsets: number[] | null): string {
  if (!pageOffsets) return passage.content;
  let out = "";
  let cursor = 0;
  pageOffsets.forEach((offset, i) => {
    if (offset <= passage.charStart || offset >= passage.charEnd) return;
    const at = offset - passage.charStart;
    out += `${passage.content.slice(cursor, at).trimEnd()}\n[page ${i + 1}]\n`;
    cursor = at;
  });
  return out + passage.content.slice(cursor);
}

/** Merges chunks of one document that overlap or follow each other into single passages. */
function mergeAdjacent(chunks: RetrievedChunk[]): Array<Omit<Passage, "index">> {
  const sorted = [...chunks].sort((a, b) => a.documentId.localeCompare(b.documentId) || a.charStart - b.charStart);
  const merged: Array<Omit<Passage, "index"> & { lastOrd: number; bestScore: number }> = [];
  for (const chunk of sorted) {
    const previous = merged.at(-1);
    if (previous && previous.documentId === chunk.documentId && (chunk.charStart <= previous.charEnd || chunk.ord === previous.lastOrd + 1)) {
      if (chunk.charEnd > previous.charEnd) {
        previous.content += chunk.charStart < previous.charEnd ? chunk.content.slice(previous.charEnd - chunk.charStart) : `\n${chunk.content}`;
        previous.charEnd = chunk.charEnd;
      }
      previous.pageEnd = Math.max(previous.pageEnd, chunk.pageEnd);
      previous.pageStart = Math.min(previous.pageStart, chunk.pageStart);
      previous.lastOrd = Math.max(previous.lastOrd, chunk.ord);
      if (chunk.score > previous.bestScore) {
        previous.bestScore = chunk.score;
        previous.chunkId = chunk.chunkId;
      }
      previous.score = Math.max(previous.score, chunk.score);
      continue;
    }
    merged.push({
      documentId: chunk.documentId,
      filename: chunk.filename,
      chunkId: chunk.chunkId,
      pageStart: chunk.pageStart,
      pageEnd: chunk.pageEnd,
      charStart: chunk.charStart,
      charEnd: chunk.charEnd,
      content: chunk.content,
      score: chunk.score,
      lastOrd: chunk.ord,
      bestScore: chunk.score,
    });
  }
  return merged.map((m) => ({
    documentId: m.documentId,
    filename: m.filename,
    chunkId: m.chunkId,
    pageStart: m.pageStart,
    pageEnd: m.pageEnd,
    charStart: m.charStart,
    charEnd: m.charEnd,
    content: m.content,
    score: m.score,
  }));
}

export async function groundMessage(input: {
  conversationId: string;
  userId: string;
  /** The API key making the call: the query embedding is billed to it. */
  apiKeyId?: string | null;
  content: string;
  previousQuestion: string | null;
  lastCitation: CitationPart | undefined;
  /** Most tokens the passages may take in the prompt. */
  passageTokenBudget: number;
}): Promise<Grounding> {
  const attached = ((await listAttachedDocuments({ conversationIds: [input.conversationId] })).get(input.conversationId) ?? []).filter(
    (d) => d.userId === input.userId,
  );
  if (attached.length === 0) {
    return {
      kind: "blocked",
      reason: "no_documents",
      reply: "This conversation answers from documents, but none are attached yet. Upload a PDF, text or Markdown file (or attach one you uploaded before), then ask again — or switch the conversation to open mode.",
    };
  }
  const pending = attached.filter((d) => d.status === "pending" || d.status === "processing");
  if (pending.length > 0) {
    return {
      kind: "blocked",
      reason: "not_ready",
      reply: `I can't answer from your documents yet: ${describeProgress(pending)} ${pending.length === 1 ? "is" : "are"} still being indexed. Ask again when ${pending.length === 1 ? "it shows" : "they show"} as ready, so the answer comes from the whole document and not half an index.`,
    };
  }
  const ready = attached.filter((d) => d.status === "ready");
  if (ready.length === 0) {
    const reasons = attached.map((d) => `“${d.filename}”${d.error?.detail ? ` (${d.error.detail})` : ""}`).join(", ");
    return {
      kind: "blocked",
      reason: "all_failed",
      reply: `None of the attached documents could be indexed: ${reasons}. Upload a different file or switch the conversation to open mode.`,
    };
  }

  const startedAt = performance.now();
  const documentIds = ready.map((d) => d.id);
  const query = buildQuery(input.content, input.previousQuestion);
  // A chunk is evidence when it reaches a share of the query's attainable score (Σ idf, a term
  // the documents never use counting as much as their rarest one), so "capital of Peru" against
  // a report that mentions neither finds nothing relevant.
  const { chunks: candidates, attainableScore: attainable, mode } = await searchChunksWithStats({
    documentIds,
    query,
    limit: env.RETRIEVAL_TOP_K,
    billTo: { userId: input.userId, apiKeyId: input.apiKeyId ?? null },
  });
  const best = Math.max(0, ...candidates.map((c) => c.lexicalScore ?? 0));
  const relevant = (c: RetrievedChunk) =>
    c.lexicalScore !== null
      ? attainable > 0 && c.lexicalScore / attainable >= MIN_COVERAGE && c.lexicalScore >= MIN_RELATIVE * best
      : (c.vectorScore ?? 0) >= env.RETRIEVAL_MIN_SIMILARITY;
  const used = candidates.filter(relevant);

  // A page the user points at is read whatever its score.
  const page = referencedPage(input.content, input.lastCitation);
  const pageHits: RetrievedChunk[] = (
    page
      ? await listChunksOnPage({ documentIds: page.documentId ? [page.documentId].filter((id) => documentIds.includes(id)) : documentIds, page: page.page, limit: 2 })
      : []
  ).map((c) => ({ ...c, score: 0, lexicalScore: null, vectorScore: null }));
  const chosen = [...pageHits, ...used];
  const unique = chosen.filter((c, i) => chosen.findIndex((o) => o.chunkId === c.chunkId) === i);

  // Best first, within the token budget; numbers follow that order.
  const merged = mergeAdjacent(unique).sort((a, b) => b.score - a.score || a.pageStart - b.pageStart);
  const passages: Passage[] = [];
  let tokens = 0;
  for (const passage of merged) {
    const cost = countTextTokens(passage.content, "o200k") + 20;
    if (tokens + cost > input.passageTokenBudget && passages.length > 0) break;
    tokens += cost;
    passages.push({ ...passage, index: passages.length + 1 });
  }
  const usedIds = new Set(unique.map((c) => c.chunkId));
  const trace: RetrievalPart = {
    type: "retrieval",
    query,
    durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
    candidates: [...pageHits, ...candidates]
      .filter((c, i, all) => all.findIndex((o) => o.chunkId === c.chunkId) === i)
      .map((c) => ({
      chunkId: c.chunkId,
      documentId: c.documentId,
      pageStart: c.pageStart,
      pageEnd: c.pageEnd,
      score: c.score,
      lexicalScore: c.lexicalScore,
      vectorScore: c.vectorScore,
      used: usedIds.has(c.chunkId),
    })),
  };
  metrics.retrievalDuration.observe({ mode }, trace.durationMs / 1000);
  const offsets = new Map(ready.map((d) => [d.id, d.pageOffsets]));
  const citations: CitationPart[] = passages.map((p) => ({
    type: "citation",
    index: p.index,
    documentId: p.documentId,
    filename: p.filename,
    chunkId: p.chunkId,
    score: Math.round(p.score * 10_000) / 10_000,
    ...citeSnippet(p, input.content, offsets.get(p.documentId) ?? null),
  }));
  // The model sees where pages start inside a passage, so it can name the page it quotes.
  const marked = passages.map((p) => ({ ...p, content: markPageStarts(p, offsets.get(p.documentId) ?? null) }));
  return { kind: "retrieved", question: input.content, passages: marked, citations, trace };
}
