import type { CitationResource } from "@/lib/api/resources";
import type { SourceDocumentUIPart, UIMessage } from "ai";

/** Metadata the server attaches to assistant messages (start + finish parts, or stored row). */
export type ChatMetadata = {
  status?: string;
  model?: string | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  cost_usd?: number | null;
  fallback_used?: boolean;
  error_detail?: string | null;
  conversation_id?: string;
  assistant_message_id?: string;
};

export type ChatMessage = UIMessage<ChatMetadata>;

/** A passage an answer cites; the reply's text refers to it as `[index]`. */
export type Citation = CitationResource;

export type StoredMessage = {
  id: string;
  role: "user" | "assistant" | "system";
  content: string;
  status: string;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  fallback_used: boolean;
  error: { detail?: string } | null;
  citations?: Citation[];
};

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
      parts: [...(m.citations ?? []).map(toSourcePart), { type: "text" as const, text: m.content }],
      metadata: {
        status: m.status,
        model: m.model,
        prompt_tokens: m.prompt_tokens,
        completion_tokens: m.completion_tokens,
        cost_usd: m.cost_usd,
        fallback_used: m.fallback_used,
        error_detail: m.error?.detail ?? null,
      },
    }));
}
