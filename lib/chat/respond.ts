import type { UIMessageChunk } from "ai";
import { AppError } from "@/lib/api/errors";
import { serializeMessage } from "@/lib/api/serialize";
import type { Conversation } from "@/lib/db/schema";
import { runTurn, type TurnResult } from "./turn";

export const HEARTBEAT_MS = 15_000;

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

export function wantsStream(request: Request, bodyFlag: boolean | undefined): boolean {
  return bodyFlag === true || (request.headers.get("accept") ?? "").includes("text/event-stream");
}

type TurnRequest = { userId: string; conversation: Conversation; content: string; request: Request };

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
 * Streams a turn as the AI SDK UI message stream (SSE). The turn is driven here, not by the
 * reader: if the client goes away the provider call is aborted and the partial reply is saved.
 */
export function streamTurn(input: TurnRequest, options: { heartbeatMs?: number } = {}): Response {
  const abort = new AbortController();
  const onRequestAbort = () => abort.abort();
  input.request.signal.addEventListener("abort", onRequestAbort, { once: true });
  const encoder = new TextEncoder();
  let closed = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          closed = true;
        }
      };
      const write = (chunk: UIMessageChunk) => send(`data: ${JSON.stringify(chunk)}\n\n`);
      // SSE comments keep proxies from timing out a slow first token.
      heartbeat = setInterval(() => send(": heartbeat\n\n"), options.heartbeatMs ?? HEARTBEAT_MS);
      let textStarted = false;
      let textId = "";

      void runTurn({
        userId: input.userId,
        conversation: input.conversation,
        content: input.content,
        signal: abort.signal,
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
          onDelta: (delta) => {
            if (!textStarted) {
              textStarted = true;
              write({ type: "text-start", id: textId });
            }
            write({ type: "text-delta", id: textId, delta });
          },
        },
      })
        .then((result) => {
          if (textStarted) write({ type: "text-end", id: textId });
          if (result.problem) {
            write({ type: "data-problem", data: result.problem.toProblem(), transient: true });
            write({ type: "error", errorText: result.problem.message });
          } else if (result.assistantMessage.status === "aborted") {
            write({ type: "abort", reason: "client" });
          } else {
            write({ type: "finish", finishReason: "stop", messageMetadata: finishMetadata(result) });
          }
        })
        .catch((error: unknown) => {
          // Before the user message was saved (e.g. model unavailable) or a database failure.
          const problem = error instanceof AppError ? error : new AppError("internal_error", "The reply could not be completed.");
          if (!(error instanceof AppError)) console.error("turn failed", error);
          write({ type: "data-problem", data: problem.toProblem(), transient: true });
          write({ type: "error", errorText: problem.message });
        })
        .finally(() => {
          send("data: [DONE]\n\n");
          clearInterval(heartbeat);
          input.request.signal.removeEventListener("abort", onRequestAbort);
          if (!closed) {
            closed = true;
            try {
              controller.close();
            } catch {
              // already cancelled by the reader
            }
          }
        });
    },
    cancel() {
      closed = true;
      clearInterval(heartbeat);
      abort.abort();
    },
  });

  return new Response(body, {
    status: 201,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-vercel-ai-ui-message-stream": "v1",
    },
  });
}

export function turnJson(result: TurnResult) {
  return { user_message: serializeMessage(result.userMessage), assistant_message: serializeMessage(result.assistantMessage) };
}
