import type { CitationResource, ContextResource, ConversationResource, MessageResource } from "@/lib/api/resources";
import type { SourceDocumentUIPart, UIMessage } from "ai";

/**
 * Metadata of a message: the start and finish parts of a live reply carry some of it; the stored
 * row (loaded with the page, or refetched after a turn) carries all of it.
 */
export type ChatMetadata = {
  seq?: number;
  status?: string;
  model?: string | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  cached_tokens?: number | null;
  usage_estimated?: boolean;
  cached?: boolean;
  cost_usd?: number | null;
  latency_ms?: number | null;
  ttft_ms?: number | null;
  context?: ContextResource | null;
  fallback_used?: boolean;
  error_detail?: string | null;
  conversation_id?: string;
  assistant_message_id?: string;
  /** The user's rating of a reply, as stored. */
  feedback?: MessageResource["feedback"];
};

export type Rating = "up" | "down";

export type ChatMessage = UIMessage<ChatMetadata>;

/** The text of a message (its text parts, joined). */
export function textOf(message: Pick<ChatMessage, "parts">): string {
  return message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** A passage an answer cites; the reply's text refers to it as `[index]`. */
export type Citation = CitationResource;

export type StoredMessage = MessageResource;

/** What the chat shows of a conversation beyond its messages; refetched after each turn. */
export type ConversationUsage = Pick<ConversationResource, "total_tokens" | "total_cost_usd" | "summary" | "summary_through_seq">;

export function usageOf(conversation: ConversationResource): ConversationUsage {
  const { total_tokens, total_cost_usd, summary, summary_through_seq } = conversation;
  return { total_tokens, total_cost_usd, summary, summary_through_seq };
}

function mediaTypeOf(filename: string): string {
  const extension = filename.toLowerCase().split(".").pop();
  return extension === "pdf" ? "application/pdf" : extension === "md" ? "text/markdown" : "text/plain";
}

/** The same part the server streams live, so stored and streamed replies render alike. */
export function toSourcePart(citation: Citation): SourceDocumentUIPart {
  return {
    type: "source-document",
    sourceId: citation.chunk_id,
    mediaType: mediaTypeOf(citation.filename),
    title: `${citation.filename} p.${citation.page_start}`,
    filename: citation.filename,
    providerMetadata: { botgpt: { ...citation } },
  };
}

function isCitation(value: unknown): value is Citation {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.index === "number" &&
    typeof v.document_id === "string" &&
    typeof v.filename === "string" &&
    typeof v.page_start === "number" &&
    typeof v.page_end === "number" &&
    typeof v.chunk_id === "string" &&
    typeof v.score === "number" &&
    typeof v.snippet === "string"
  );
}

/** The citations carried by a message's source-document parts, one per index, in order. */
export function citationsOf(message: ChatMessage): Citation[] {
  const byIndex = new Map<number, Citation>();
  for (const part of message.parts) {
    if (part.type !== "source-document") continue;
    const citation = part.providerMetadata?.botgpt;
    if (isCitation(citation) && !byIndex.has(citation.index)) byIndex.set(citation.index, citation);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export function toChatMessages(messages: StoredMessage[]): ChatMessage[] {
  return messages
    .filter((m) => m.role !== "system")
    .map((m) => ({
      id: m.id,
      role: m.role,
      parts: [...m.citations.map(toSourcePart), { type: "text" as const, text: m.content }],
      metadata: metadataOf(m),
    }));
}

function metadataOf(m: StoredMessage): ChatMetadata {
  return {
    seq: m.seq,
    status: m.status,
    model: m.model,
    prompt_tokens: m.prompt_tokens,
    completion_tokens: m.completion_tokens,
    cached_tokens: m.cached_tokens,
    usage_estimated: m.usage_estimated,
    cached: m.cached,
    cost_usd: m.cost_usd,
    latency_ms: m.latency_ms,
    ttft_ms: m.ttft_ms,
    context: m.context,
    fallback_used: m.fallback_used,
    error_detail: m.error?.detail ?? null,
    feedback: m.feedback,
  };
}

/**
 * The shown messages with the stored rows' metadata (seq, usage, context, feedback), when both
 * lists are the same turns in the same order. Text and parts stay as shown: a reply just streamed
 * is not redrawn. A user message sent from this page takes its stored id (it is edited by that id).
 * Otherwise (a turn started meanwhile, or one the server never saved) the shown list is kept.
 */
export function withStoredMetadata(shown: ChatMessage[], stored: StoredMessage[]): ChatMessage[] {
  // The stored rows are the conversation's newest: line them up with the end of the thread.
  const rows = stored.filter((m) => m.role !== "system");
  const count = Math.min(rows.length, shown.length);
  if (count === 0) return shown;
  const offset = shown.length - count;
  const tail = rows.slice(rows.length - count);
  const aligned = tail.every((row, i) => {
    const m = shown[offset + i];
    return m?.role === row.role && (m.role === "user" || m.id === row.id);
  });
  if (!aligned) return shown;
  const merged = shown.map((m, i) => {
    const row = i >= offset ? tail[i - offset] : undefined;
    return row ? { ...m, id: row.id, metadata: { ...m.metadata, ...metadataOf(row) } } : m;
  });
  // Unchanged rows keep the same list, so a recheck that finds nothing new redraws nothing.
  const changed = merged.some((m, i) => m.id !== shown[i]?.id || JSON.stringify(m.metadata) !== JSON.stringify(shown[i]?.metadata));
  return changed ? merged : shown;
}

/** Index in `messages` after which "N earlier messages summarized" goes; -1 for none. */
export function summaryMarkerIndex(messages: ChatMessage[], summaryThroughSeq: number | null): number {
  if (!summaryThroughSeq) return -1;
  const bySeq = messages.findIndex((m) => m.metadata?.seq === summaryThroughSeq);
  if (bySeq !== -1) return bySeq;
  // The summarized messages are all above the loaded page: no marker in view.
  const firstSeq = messages[0]?.metadata?.seq;
  if (firstSeq !== undefined && firstSeq > summaryThroughSeq) return -1;
  // Seq is gap-free from 1, so without stored seqs the position is the count.
  return Math.min(summaryThroughSeq, messages.length) - 1;
}

/** The request size of the newest reply that has one. */
export function latestContext(messages: ChatMessage[]): ContextResource | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const context = messages[i]?.metadata?.context;
    if (context) return context;
  }
  return null;
}
