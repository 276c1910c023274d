import { APICallError, type ModelMessage, streamText } from "ai";
import { AppError, type ErrorCode } from "@/lib/api/errors";
import { costUsd } from "@/lib/ai/models";
import { resolveModel, type ResolvedModel } from "@/lib/ai/providers";
import type { OfflineGrounding } from "@/lib/ai/offline-model";
import {
  appendMessage,
  finishAssistantMessage,
  loadModelHistory,
  savePartialContent,
} from "@/lib/db/queries/messages";
import type { CitationPart, Conversation, Message, MessagePart, StoredProblem } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { groundedSystemPrompt } from "@/lib/ai/prompts";
import { groundMessage, type Grounding } from "@/lib/retrieval/ground";

/**
 * One chat turn: persist the user message (its own transaction) → build the model request from
 * the stored history → stream → persist the reply with usage, timings and how it ended. The turn
 * runs to completion and saves its outcome whether or not anyone is still reading.
 */

export type TurnEvents = {
  /** Both rows exist; the reply is about to be requested. */
  onStart?: (ids: { userMessage: Message; assistantMessage: Message }) => void;
  /** Grounded turns: the passages the reply is built on, before any text. */
  onSources?: (citations: CitationPart[]) => void;
  onDelta?: (delta: string) => void;
};

export type TurnResult = { userMessage: Message; assistantMessage: Message; problem: AppError | null };

const PARTIAL_FLUSH_MS = 1_000;

const NETWORK_FAILURE = /ECONNRESET|ECONNREFUSED|ENOTFOUND|EPIPE|UND_ERR|terminated|socket|fetch failed|other side closed/i;

function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    if (e instanceof Error) {
      parts.push(`${e.name} ${e.message} ${(e as { code?: unknown }).code ?? ""}`);
      e = e.cause;
    } else break;
  }
  return parts.join(" | ");
}

function upstreamProblem(error: unknown, provider: string): AppError {
  const chain = causeChain(error);
  const status = APICallError.isInstance(error) ? error.statusCode : undefined;
  let code: ErrorCode = "upstream_error";
  let detail = `The ${provider} provider failed to produce a reply.`;
  if (/timeout|timed out/i.test(chain) || status === 408 || status === 504) {
    code = "upstream_timeout";
    detail = `The ${provider} provider timed out.`;
  } else if (NETWORK_FAILURE.test(chain)) {
    code = "upstream_unavailable";
    detail = `The connection to the ${provider} provider failed.`;
  } else if (status === 429 || status === 503) {
    code = "upstream_unavailable";
    detail = `The ${provider} provider answered HTTP ${status}.`;
  } else if (status !== undefined) {
    detail = `The ${provider} provider answered HTTP ${status}.`;
  }
  // Provider messages can echo request details (keys, prompts): only our own wording goes out.
  return new AppError(code, detail, { cause: error });
}

function storedProblem(error: AppError): StoredProblem {
  const problem = error.toProblem();
  return { code: problem.code, title: problem.title, status: problem.status, detail: problem.detail };
}

export function toModelMessages(history: Array<Pick<Message, "role" | "content">>): ModelMessage[] {
  return history.map((m) =>
    m.role === "assistant"
      ? { role: "assistant", content: m.content }
      : m.role === "system"
        ? { role: "system", content: m.content }
        : { role: "user", content: m.content },
  );
}

export type CallSettings = { temperature?: number; topP?: number; maxOutputTokens?: number; stopSequences?: string[] };

export type ModelOutcome = {
  text: string;
  ttftMs: number | null;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  finishReason: string | null;
  /** Set when the provider failed (not when the caller aborted). */
  problem: AppError | null;
  aborted: boolean;
};

/** One streamed model call: deltas go to `onDelta`; the outcome says how it ended. Never throws. */
export async function streamModel(input: {
  resolved: ResolvedModel;
  system: string | null;
  messages: ModelMessage[];
  signal: AbortSignal;
  settings?: CallSettings;
  /** Grounded turns: the passages, for a model that uses them directly (the offline model). */
  grounding?: OfflineGrounding;
  onDelta?: (delta: string, textSoFar: string) => void;
}): Promise<ModelOutcome> {
  const { resolved } = input;
  const startedAt = performance.now();
  let text = "";
  let ttftMs: number | null = null;
  let promptTokens: number | null = null;
  let completionTokens: number | null = null;
  let finishReason: string | null = null;
  let failure: unknown = null;
  try {
    const result = streamText({
      model: resolved.model,
      system: input.system ?? undefined,
      messages: input.messages,
      abortSignal: input.signal,
      temperature: input.settings?.temperature,
      topP: input.settings?.topP,
      stopSequences: input.settings?.stopSequences,
      maxOutputTokens: Math.min(input.settings?.maxOutputTokens ?? resolved.info.maxOutputTokens, resolved.info.maxOutputTokens),
      // The resilience layer owns retries; the SDK's own would stack on top of it.
      maxRetries: 0,
      providerOptions: { openai: { store: false }, ...(input.grounding ? { botgpt: { grounding: input.grounding } } : {}) },
      // Failures arrive as stream parts and are handled below; the default handler would log them.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") {
        if (ttftMs === null) ttftMs = Math.round(performance.now() - startedAt);
        text += part.text;
        input.onDelta?.(part.text, text);
      } else if (part.type === "finish") {
        promptTokens = part.totalUsage.inputTokens ?? null;
        completionTokens = part.totalUsage.outputTokens ?? null;
        finishReason = part.finishReason;
      } else if (part.type === "error") {
        failure = part.error;
      }
    }
  } catch (error) {
    failure = error;
  }
  const aborted = input.signal.aborted;
  const problem = aborted || !failure ? null : upstreamProblem(failure, resolved.provider);
  return {
    text,
    ttftMs,
    latencyMs: Math.round(performance.now() - startedAt),
    promptTokens,
    completionTokens,
    finishReason: aborted ? "aborted" : problem ? "error" : finishReason,
    problem,
    aborted,
  };
}

const isCitation = (part: MessagePart): part is CitationPart => part.type === "citation";

/** Grounded conversations: retrieval for this message, from the documents attached to it. */
async function groundTurn(input: {
  userId: string;
  conversation: Conversation;
  content: string;
  history: Array<Pick<Message, "role" | "content" | "parts">>;
  resolved: ResolvedModel;
}): Promise<Grounding> {
  // history ends with the message being answered.
  const earlier = input.history.slice(0, -1).reverse();
  return groundMessage({
    conversationId: input.conversation.id,
    userId: input.userId,
    content: input.content,
    previousQuestion: earlier.find((m) => m.role === "user")?.content ?? null,
    lastCitation: earlier.find((m) => m.role === "assistant")?.parts.find(isCitation),
    // Passages take at most 40 % of the window (and never more than 8k tokens).
    passageTokenBudget: Math.min(8_000, Math.floor(input.resolved.info.contextWindow * 0.4)),
  });
}

export async function runTurn(input: {
  userId: string;
  conversation: Conversation;
  content: string;
  signal: AbortSignal;
  settings?: CallSettings;
  events?: TurnEvents;
}): Promise<TurnResult> {
  const { conversation, events } = input;
  // A model that cannot be used is a request error; nothing is saved yet.
  const resolved: ResolvedModel = resolveModel(conversation.model);

  const userMessage = await appendMessage({
    conversationId: conversation.id,
    userId: input.userId,
    role: "user",
    content: input.content,
  });
  const history = await loadModelHistory({ conversationId: conversation.id, beforeSeq: userMessage.seq + 1 });
  const grounding = conversation.mode === "grounded" ? await groundTurn({ ...input, history, resolved }) : null;

  const blocked = grounding?.kind === "blocked" ? grounding : null;
  const retrieved = grounding?.kind === "retrieved" ? grounding : null;
  const assistantMessage = await appendMessage({
    conversationId: conversation.id,
    userId: input.userId,
    role: "assistant",
    content: "",
    status: "streaming",
    model: blocked ? null : resolved.id,
    provider: blocked ? null : resolved.provider,
    workerId: env.instanceId,
    parts: retrieved ? [...retrieved.citations, retrieved.trace] : [],
  });
  events?.onStart?.({ userMessage, assistantMessage });

  if (blocked) {
    // Nothing to answer from (yet): say so instead of calling the model on half an index.
    events?.onDelta?.(blocked.reply);
    const saved = await finishAssistantMessage({
      id: assistantMessage.id,
      conversationId: conversation.id,
      outcome: {
        content: blocked.reply,
        status: "complete",
        model: null,
        provider: null,
        fallbackUsed: false,
        promptTokens: 0,
        completionTokens: 0,
        costUsd: 0,
        latencyMs: 0,
        ttftMs: 0,
        finishReason: blocked.reason === "not_ready" ? "documents_not_ready" : blocked.reason === "no_documents" ? "no_documents" : "documents_failed",
        error: null,
      },
    });
    return { userMessage, assistantMessage: saved, problem: null };
  }
  if (retrieved) events?.onSources?.(retrieved.citations);

  let lastFlush = Date.now();
  let flushing: Promise<void> = Promise.resolve();
  const outcome = await streamModel({
    resolved,
    system: retrieved ? groundedSystemPrompt({ base: conversation.systemPrompt, passages: retrieved.passages }) : conversation.systemPrompt,
    messages: toModelMessages(history),
    signal: input.signal,
    settings: input.settings,
    grounding: retrieved
      ? {
          question: retrieved.question,
          // Quoted with the exact page of their best sentence (the citation's), not the passage's range.
          passages: retrieved.passages.map((p, i) => ({
            index: p.index,
            filename: p.filename,
            pageStart: retrieved.citations[i]?.pageStart ?? p.pageStart,
            pageEnd: retrieved.citations[i]?.pageEnd ?? p.pageEnd,
            content: p.content,
          })),
        }
      : undefined,
    onDelta: (delta, textSoFar) => {
      events?.onDelta?.(delta);
      if (Date.now() - lastFlush >= PARTIAL_FLUSH_MS) {
        lastFlush = Date.now();
        flushing = flushing.then(() => savePartialContent({ id: assistantMessage.id, content: textSoFar })).catch(() => {});
      }
    },
  });
  await flushing;
  const { promptTokens, completionTokens, problem } = outcome;
  const saved = await finishAssistantMessage({
    id: assistantMessage.id,
    conversationId: conversation.id,
    outcome: {
      content: outcome.text,
      status: outcome.aborted ? "aborted" : problem ? "error" : "complete",
      model: resolved.id,
      provider: resolved.provider,
      fallbackUsed: false,
      promptTokens,
      completionTokens,
      costUsd: promptTokens !== null && completionTokens !== null ? costUsd(resolved.info, promptTokens, completionTokens) : null,
      latencyMs: outcome.latencyMs,
      ttftMs: outcome.ttftMs,
      finishReason: outcome.finishReason,
      error: problem ? storedProblem(problem) : null,
    },
  });
  return { userMessage, assistantMessage: saved, problem };
}
