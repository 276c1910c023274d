import type { UIMessageChunk } from "ai";
import { ERROR_TYPE_BASE, type Problem } from "@/lib/api/errors";
import { serializeCitation } from "@/lib/api/serialize";
import { pageLabel } from "@/lib/ai/prompts";
import type { CitationPart, Message } from "@/lib/db/schema";

/**
 * The parts of a reply's UI message stream (AI SDK protocol v1): built live as a turn runs, and
 * rebuilt from the stored row when a finished reply is replayed after its stream log expired.
 */

/** Metadata carried on the start and finish parts. */
export type StartMetadata = { conversation_id: string; user_message_id?: string; assistant_message_id: string };
export type FinishMetadata = {
  status: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  model: string | null;
  fallback_used: boolean;
};

export const textPartId = (assistantMessageId: string) => `text-${assistantMessageId}`;

function mediaTypeOf(filename: string): string {
  if (/\.pdf$/i.test(filename)) return "application/pdf";
  return /\.(md|markdown)$/i.test(filename) ? "text/markdown" : "text/plain";
}

export function startChunk(metadata: StartMetadata): UIMessageChunk {
  return { type: "start", messageId: metadata.assistant_message_id, messageMetadata: metadata };
}

export function sourceChunks(citations: CitationPart[]): UIMessageChunk[] {
  return citations.map((citation) => ({
    type: "source-document",
    sourceId: citation.chunkId,
    mediaType: mediaTypeOf(citation.filename),
    title: `${citation.filename} ${pageLabel(citation.pageStart, citation.pageEnd)}`,
    filename: citation.filename,
    providerMetadata: { botgpt: serializeCitation(citation) },
  }));
}

/** The problem a failed or interrupted reply stored, in problem+json form. */
export function storedProblemOf(message: Message): Problem | null {
  if (!message.error) return null;
  const { code, title, status, detail } = message.error;
  return { type: `${ERROR_TYPE_BASE}${code}`, title, status, detail, code } as Problem;
}

/** How a reply's stream ends: finish with usage, abort, or a problem and an error part. */
export function endChunks(message: Message, problem: Problem | null = storedProblemOf(message)): UIMessageChunk[] {
  if (message.status === "aborted") return [{ type: "abort", reason: "client" }];
  if (problem && message.status !== "complete") {
    return [
      { type: "data-problem", data: problem, transient: true },
      { type: "error", errorText: problem.detail ?? problem.title },
    ];
  }
  const metadata: FinishMetadata = {
    status: message.status,
    prompt_tokens: message.promptTokens,
    completion_tokens: message.completionTokens,
    cost_usd: message.costUsd,
    model: message.model,
    fallback_used: message.fallbackUsed,
  };
  return [{ type: "finish", finishReason: "stop", messageMetadata: metadata }];
}

/** A whole finished reply as one stream: start, sources, its text in one piece, and its end. */
export function replayChunks(message: Message): UIMessageChunk[] {
  const textId = textPartId(message.id);
  const citations = message.parts.filter((p): p is CitationPart => p.type === "citation");
  return [
    startChunk({ conversation_id: message.conversationId, assistant_message_id: message.id }),
    ...sourceChunks(citations),
    ...(message.content
      ? ([
          { type: "text-start", id: textId },
          { type: "text-delta", id: textId, delta: message.content },
          { type: "text-end", id: textId },
        ] satisfies UIMessageChunk[])
      : []),
    ...endChunks(message),
  ];
}
