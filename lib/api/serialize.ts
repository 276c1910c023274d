import type { CitationPart, ContextPart, Conversation, Document, Message, RetrievalPart } from "@/lib/db/schema";
import { ERROR_TYPE_BASE } from "./errors";
import type { AvailableModel } from "@/lib/ai/catalog";
import type { PublicApiKey } from "@/lib/db/queries/api-keys";
import { listFeedback, type Feedback } from "@/lib/db/queries/feedback";
import type {
  ApiKeyResource,
  CitationResource,
  ContextResource,
  ConversationResource,
  DocumentResource,
  MessageResource,
  ModelResource,
  RetrievalTraceResource,
} from "./resources";

/** Wire shapes (snake_case) of the API's resources. */

/** `documentIds`: the conversation's attached documents (see listConversationDocumentIds). */
export function serializeConversation(c: Conversation, documentIds: string[] = []): ConversationResource {
  return {
    id: c.id,
    title: c.title,
    mode: c.mode,
    model: c.model,
    system_prompt: c.systemPrompt,
    temperature: c.temperature,
    document_ids: documentIds,
    pinned: c.pinned,
    archived: c.archived,
    message_count: c.lastSeq,
    total_tokens: c.totalTokens,
    total_cost_usd: c.totalCostUsd,
    summary: c.summary,
    summary_through_seq: c.summaryThroughSeq,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    last_message_at: c.lastMessageAt?.toISOString() ?? null,
  };
}

/** `feedback`: the caller's rating of this message, if any (see listFeedback). */
export function serializeMessage(m: Message, feedback: Pick<Feedback, "rating" | "comment"> | null = null): MessageResource {
  return {
    id: m.id,
    conversation_id: m.conversationId,
    seq: m.seq,
    role: m.role,
    content: m.content,
    status: m.status,
    model: m.model,
    provider: m.provider,
    fallback_used: m.fallbackUsed,
    prompt_tokens: m.promptTokens,
    completion_tokens: m.completionTokens,
    cached_tokens: m.cachedTokens,
    usage_estimated: m.usageEstimated,
    cached: m.cached,
    cost_usd: m.costUsd,
    latency_ms: m.latencyMs,
    ttft_ms: m.ttftMs,
    finish_reason: m.finishReason,
    citations: m.parts.filter((p): p is CitationPart => p.type === "citation").map(serializeCitation),
    retrieval: serializeRetrieval(m.parts.find((p): p is RetrievalPart => p.type === "retrieval")),
    context: serializeContext(m.parts.find((p): p is ContextPart => p.type === "context")),
    error: m.error ? { type: `${ERROR_TYPE_BASE}${m.error.code}`, ...m.error } : null,
    feedback: feedback ? { rating: feedback.rating, comment: feedback.comment } : null,
    created_at: m.createdAt.toISOString(),
  };
}

/** Messages as `userId` sees them: each with that user's rating, read in one query. */
export async function serializeMessagesFor(rows: Message[], userId: string): Promise<MessageResource[]> {
  const feedback = await listFeedback({ messageIds: rows.map((m) => m.id), userId });
  return rows.map((m) => serializeMessage(m, feedback.get(m.id) ?? null));
}

export function serializeCitation(c: CitationPart): CitationResource {
  return {
    index: c.index,
    document_id: c.documentId,
    filename: c.filename,
    page_start: c.pageStart,
    page_end: c.pageEnd,
    chunk_id: c.chunkId,
    score: c.score,
    snippet: c.snippet,
  };
}

function serializeContext(c: ContextPart | undefined): ContextResource | null {
  if (!c) return null;
  return {
    tokens: c.tokens,
    window: c.window,
    summary_through_seq: c.summaryThroughSeq,
    included_from_seq: c.includedFromSeq,
    omitted_messages: c.omittedMessages,
    truncated: c.truncated,
  };
}

function serializeRetrieval(r: RetrievalPart | undefined): RetrievalTraceResource | null {
  if (!r) return null;
  return {
    query: r.query,
    duration_ms: r.durationMs,
    candidates: r.candidates.map((c) => ({
      chunk_id: c.chunkId,
      document_id: c.documentId,
      page_start: c.pageStart,
      page_end: c.pageEnd,
      score: c.score,
      lexical_score: c.lexicalScore,
      vector_score: c.vectorScore,
      used: c.used,
    })),
  };
}

export function serializeDocument(d: Document): DocumentResource {
  return {
    id: d.id,
    filename: d.filename,
    mime_type: d.mimeType,
    size_bytes: d.sizeBytes,
    pages: d.pages,
    chunk_count: d.chunkCount,
    status: d.status,
    progress: d.progress,
    error: d.error ? { type: `${ERROR_TYPE_BASE}${d.error.code}`, ...d.error } : null,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

export function serializeModel(m: AvailableModel): ModelResource {
  return {
    id: m.id,
    object: "model",
    created: 0,
    owned_by: m.provider,
    provider: m.provider,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutputTokens,
    tokenizer: m.tokenizer,
    pricing: {
      input_per_million_usd: m.inputPerMillion,
      cached_input_per_million_usd: m.cachedInputPerMillion,
      output_per_million_usd: m.outputPerMillion,
    },
    priced: m.priced,
    default: m.isDefault,
    offline: m.provider === "offline",
  };
}

export function serializeApiKey(k: PublicApiKey): ApiKeyResource {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    expires_at: k.expiresAt?.toISOString() ?? null,
  };
}
