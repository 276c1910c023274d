import { AppError } from "@/lib/api/errors";
import { serializeMessage } from "@/lib/api/serialize";
import type { Conversation, Message } from "@/lib/db/schema";
import { ReplyRun } from "@/lib/streams/runs";
import { endChunks, sourceChunks, startChunk, textPartId } from "./chunks";
import { subscriptionResponse } from "./sse";
import { runTurn, saveUserMessage, type TurnResult } from "./turn";
import { log } from "@/lib/log";
import type { Payer, Reservation } from "@/lib/usage/budget";

export type { FinishMetadata, StartMetadata } from "./chunks";

export function wantsStream(request: Request, bodyFlag: boolean | undefined): boolean {
  return bodyFlag === true || (request.headers.get("accept") ?? "").includes("text/event-stream");
}

/** Who pays for the reply and the budget held for it (from admitModelCall); the reply settles or releases it. */
type Budget = { payer?: Payer; reservation?: Reservation | null };

type TurnRequest = { userId: string; apiKeyId?: string | null; conversation: Conversation; content: string } & Budget;

/** A reply to a user message that is already saved: a new turn's, or one rewound to (regenerate, edit). */
type ReplyRequest = { userId: string; apiKeyId?: string | null; conversation: Conversation; userMessage: Message; fresh?: boolean } & Budget;

/**
 * Starts generating the reply to a saved user message as a durable run: it is not tied to the
 * request that asked for it, so a reader going away (reload, tab switch, network blip) does not
 * stop it — only an explicit stop does. Every part of the UI message stream is published on the
 * run (and so to the stream log). `result` settles when the reply is saved.
 */
function startReply(request: ReplyRequest): { run: ReplyRun; result: Promise<TurnResult> } {
  const { userMessage, ...input } = request;
  const run = new ReplyRun();
  const publish = (chunk: Parameters<ReplyRun["publish"]>[0]) => run.publish(chunk);
  const result = (async () => {
    let textId = "";
    let textStarted = false;
    try {
      const turn = await runTurn({
        ...input,
        content: userMessage.content,
        userMessage,
        signal: run.controller.signal,
        events: {
          onStart: ({ userMessage, assistantMessage }) => {
            textId = textPartId(assistantMessage.id);
            run.attach(assistantMessage.id);
            publish(
              startChunk({ conversation_id: input.conversation.id, user_message_id: userMessage.id, assistant_message_id: assistantMessage.id }),
            );
          },
          onSources: (citations) => sourceChunks(citations).forEach(publish),
          onDelta: (delta) => {
            if (!textStarted) {
              textStarted = true;
              publish({ type: "text-start", id: textId });
            }
            publish({ type: "text-delta", id: textId, delta });
          },
        },
      });
      if (textStarted) publish({ type: "text-end", id: textId });
      endChunks(turn.assistantMessage, turn.problem?.toProblem() ?? null).forEach(publish);
      return turn;
    } catch (error) {
      // Before the reply's row existed, or its final write failed after every retry.
      const problem = error instanceof AppError ? error : new AppError("internal_error", "The reply could not be completed.");
      if (!(error instanceof AppError)) log.error({ err: error }, "turn failed");
      publish({ type: "data-problem", data: problem.toProblem(), transient: true });
      publish({ type: "error", errorText: problem.message });
      throw problem;
    } finally {
      run.end();
    }
  })();
  // Streamed turns report failures in the stream; JSON turns await `result` themselves.
  result.catch(() => {});
  return { run, result };
}

/**
 * Streams the reply to a saved user message as the AI SDK UI message stream (SSE), each event
 * with its id.
 */
function streamReply(request: ReplyRequest, options: { status?: number; heartbeatMs?: number } = {}): Response {
  const { run } = startReply(request);
  return subscriptionResponse({
    status: options.status ?? 201,
    headers: { "x-vercel-ai-ui-message-stream": "v1" },
    heartbeatMs: options.heartbeatMs,
    subscribe: (sink) => run.subscribe(0, { event: (e) => sink.event(e.id, e.chunk), end: sink.end }),
  });
}

/** The reply to a saved user message, once it is saved; the caller leaving does not stop it. */
function completeReply(request: ReplyRequest): Promise<TurnResult> {
  return startReply(request).result;
}

/**
 * Streams a turn. The user message is saved before the response starts (a database failure is
 * still a 503 problem+json).
 */
export async function streamTurn(input: TurnRequest, options: { heartbeatMs?: number } = {}): Promise<Response> {
  const userMessage = await saveUserMessage(input);
  return streamReply({ ...input, userMessage }, options);
}

/** A turn answered as JSON once the reply is saved. */
export async function completeTurn(input: TurnRequest): Promise<TurnResult> {
  const userMessage = await saveUserMessage(input);
  return completeReply({ ...input, userMessage });
}

/**
 * The response to a request that produced a reply to `request.userMessage`: the stream, or — once
 * the reply is saved — `{ user_message, assistant_message }` (a failed reply is its problem+json).
 */
export async function replyResponse(request: ReplyRequest, options: { stream: boolean; status: number }): Promise<Response> {
  if (options.stream) return streamReply(request, { status: options.status });
  const result = await completeReply(request);
  if (result.problem) throw result.problem;
  return Response.json(turnJson(result), { status: options.status });
}

export function turnJson(result: TurnResult) {
  return { user_message: serializeMessage(result.userMessage), assistant_message: serializeMessage(result.assistantMessage) };
}
