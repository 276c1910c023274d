import type { UIMessageChunk } from "ai";
import { AppError } from "@/lib/api/errors";
import { serializeCitation, serializeMessage } from "@/lib/api/serialize";
import { pageLabel } from "@/lib/ai/prompts";
import type { Conversation } from "@/lib/db/schema";
import { sseData, sseResponse } from "./sse";
import { runTurn, saveUserMessage, type TurnResult } from "./turn";

/** Metadata carried on the start and finish parts of the UI message stream. */
export type StartMetadata = { conversation_id: string; user_message_id: string; assistant_message_id: string };
export type FinishMetadata = {
  status: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  model: string | null;
  fallback_used: boolean;
};

function mediaTypeOf(filename: string): string {
  if (/\.pdf$/i.test(filename)) return "application/pdf";
  return /\.(md|markdown)$/i.test(filename) ? "text/markdown" : "text/plain";
}

export function wantsStream(request: Request, bodyFlag: boolean | undefined): boolean {
  return bodyFlag === true || (request.headers.get("accept") ?? "").includes("text/event-stream");
}

type TurnRequest = { userId: string; apiKeyId?: string | null; conversation: Conversation; content: string; request: Request };

function finishMetadata(result: TurnResult): FinishMetadata {
  const m = result.assistantMessage;
  return {
    status: m.status,
    prompt_tokens: m.promptTokens,
    completion_tokens: m.completionTokens,
    cost_usd: m.costUsd,
    model: m.model,
    fallback_used: m.fallbackUsed,
  };
}

/**
 * Streams a turn as the AI SDK UI message stream (SSE). If the client goes away the provider call
 * is aborted and the partial reply is saved.
 */
export async function streamTurn(input: TurnRequest, options: { heartbeatMs?: number } = {}): Promise<Response> {
  // Saved before the stream starts, so a database failure is still a 503 problem+json.
  const userMessage = await saveUserMessage(input);
  return sseResponse({
    requestSignal: input.request.signal,
    status: 201,
    headers: { "x-vercel-ai-ui-message-stream": "v1" },
    heartbeatMs: options.heartbeatMs,
    run: async ({ send, signal }) => {
      const write = (chunk: UIMessageChunk) => send(sseData(chunk));
      let textStarted = false;
      let textId = "";
      try {
        const result = await runTurn({
          userId: input.userId,
          apiKeyId: input.apiKeyId ?? null,
          conversation: input.conversation,
          content: input.content,
          userMessage,
          signal,
          events: {
            onStart: ({ userMessage, assistantMessage }) => {
              textId = `text-${assistantMessage.id}`;
              const metadata: StartMetadata = {
                conversation_id: input.conversation.id,
                user_message_id: userMessage.id,
                assistant_message_id: assistantMessage.id,
              };
              write({ type: "start", messageId: assistantMessage.id, messageMetadata: metadata });
            },
            onSources: (citations) => {
              for (const citation of citations) {
                const resource = serializeCitation(citation);
                write({
                  type: "source-document",
                  sourceId: citation.chunkId,
                  mediaType: mediaTypeOf(citation.filename),
                  title: `${citation.filename} ${pageLabel(citation.pageStart, citation.pageEnd)}`,
                  filename: citation.filename,
                  providerMetadata: { botgpt: resource },
                });
              }
            },
            onDelta: (delta) => {
              if (!textStarted) {
                textStarted = true;
                write({ type: "text-start", id: textId });
              }
              write({ type: "text-delta", id: textId, delta });
            },
          },
        });
        if (textStarted) write({ type: "text-end", id: textId });
        if (result.problem) {
          write({ type: "data-problem", data: result.problem.toProblem(), transient: true });
          write({ type: "error", errorText: result.problem.message });
        } else if (result.assistantMessage.status === "aborted") {
          write({ type: "abort", reason: "client" });
        } else {
          write({ type: "finish", finishReason: "stop", messageMetadata: finishMetadata(result) });
        }
      } catch (error) {
        // Before the user message was saved, or a database failure.
        const problem = error instanceof AppError ? error : new AppError("internal_error", "The reply could not be completed.");
        if (!(error instanceof AppError)) console.error("turn failed", error);
        write({ type: "data-problem", data: problem.toProblem(), transient: true });
        write({ type: "error", errorText: problem.message });
      }
    },
  });
}

export function turnJson(result: TurnResult) {
  return { user_message: serializeMessage(result.userMessage), assistant_message: serializeMessage(result.assistantMessage) };
}
