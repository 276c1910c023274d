import { AppError } from "@/lib/api/errors";
import { resolveModel, type ResolvedModel } from "@/lib/ai/providers";
import { groundedInstructions, joinPassageBlocks, newPromptNonce, passageBlocks } from "@/lib/ai/prompts";
import { assembleContext, contextBudget, fitSystemPrompt, summaryCutoff, type HistoryMessage } from "@/lib/context/assemble";
import { countTextTokensAsync, withTokenCounts, type TokenizerFamily } from "@/lib/context/tokens";
import {
  appendMessage,
  finishAssistantMessage,
  loadModelHistory,
  savePartialContent,
  type HistoryRow,
} from "@/lib/db/queries/messages";
import type { CitationPart, ContextPart, Conversation, Message, MessagePart, StoredProblem } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { groundMessage, type Grounding } from "@/lib/retrieval/ground";
import { generate, replyTokens, type CallSettings, type PreparedRequest } from "./generate";
import { scheduleSummary } from "./summarize";
import { metrics } from "@/lib/metrics";
import { withBackoff } from "@/lib/retry";
import { log } from "@/lib/log";
import type { Payer, Reservation } from "@/lib/usage/budget";
import { chainFor } from "./admit";

/**
 * One chat turn: persist the user message (its own transaction, with its token count) → retrieve
 * (grounded mode) → fit system prompt, summary, passages and the newest turns into the model's
 * window → answer from the response cache or stream from the model → persist the reply with usage,
 * cost, timings and how it ended (one transaction with the usage ledger) → schedule the rolling
 * summary. The turn runs to completion and saves its outcome whether or not anyone is still reading.
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

function storedProblem(error: AppError): StoredProblem {
  const problem = error.toProblem();
  return { code: problem.code, title: problem.title, status: problem.status, detail: problem.detail };
}

const isCitation = (part: MessagePart): part is CitationPart => part.type === "citation";

/** Grounded conversations: retrieval for this message, from the documents attached to it. */
async function groundTurn(input: {
  userId: string;
  apiKeyId?: string | null;
  conversation: Conversation;
  content: string;
  history: HistoryRow[];
  passageTokenBudget: number;
}): Promise<Grounding> {
  // history ends with the message being answered.
  const earlier = input.history.slice(0, -1).reverse();
  return groundMessage({
    conversationId: input.conversation.id,
    userId: input.userId,
    apiKeyId: input.apiKeyId,
    content: input.content,
    previousQuestion: earlier.find((m) => m.role === "user")?.content ?? null,
    lastCitation: earlier.find((m) => m.role === "assistant")?.parts.find(isCitation),
    passageTokenBudget: input.passageTokenBudget,
  });
}

function historyMessages(rows: HistoryRow[], family: TokenizerFamily): HistoryMessage[] {
  return rows.flatMap((m) =>
    m.role === "system"
      ? []
      : [{ seq: m.seq, role: m.role, content: m.content, tokens: m.tokenFamily === family ? m.tokenCount : null }],
  );
}

/** Settings in effect: the request's, over the conversation's temperature. */
function turnSettings(conversation: Conversation, requested: CallSettings | undefined): CallSettings {
  const settings: CallSettings = conversation.temperature === null ? {} : { temperature: conversation.temperature };
  for (const [name, value] of Object.entries(requested ?? {})) {
    if (value !== undefined) Object.assign(settings, { [name]: value });
  }
  return settings;
}

const WRITE_RETRY_DELAYS_MS = [200, 1_000, 3_000];

/**
 * The reply's final write, retried with backoff: the text has been streamed and must not be lost
 * to a database blip. If every attempt fails the failure is logged and rethrown; the partial text
 * flushed during streaming stays on the row, and start-up recovery marks it interrupted.
 */
async function withWriteRetries<T>(write: () => Promise<T>, what: string): Promise<T> {
  try {
    return await withBackoff(write, WRITE_RETRY_DELAYS_MS, (error, delay) => log.warn({ what, delay_ms: delay, err: error }, "saving failed; retrying"));
  } catch (error) {
    log.error({ what, attempts: WRITE_RETRY_DELAYS_MS.length + 1, err: error }, "saving failed after every attempt");
    metrics.replyWriteFailures.inc();
    throw error;
  }
}

/**
 * Saves the user message (its own transaction, with its token count). No model call for a message
 * that is not safely stored: a database failure becomes 503 problem+json.
 */
export async function saveUserMessage(input: { userId: string; conversation: Conversation; content: string }): Promise<Message> {
  const family = resolveModel(input.conversation.model).info.tokenizer;
  try {
    return await appendMessage({
      conversationId: input.conversation.id,
      userId: input.userId,
      role: "user",
      content: input.content,
      tokens: { count: await countTextTokensAsync(input.content, family), family },
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    log.error({ conversation_id: input.conversation.id, err: error }, "saving the user message failed");
    throw new AppError("service_unavailable", "Your message could not be saved, so it was not sent to the model. Try again in a moment.", {
      headers: { "retry-after": "5" },
    });
  }
}

export async function runTurn(input: {
  userId: string;
  /** The API key making the call, if one is: its budget and usage rows. */
  apiKeyId?: string | null;
  conversation: Conversation;
  content: string;
  /** Already saved (streamed turns save it before the response starts, so a failure is a 503). */
  userMessage?: Message;
  signal: AbortSignal;
  settings?: CallSettings;
  /** Do not answer from the response cache (regenerate, edit). */
  fresh?: boolean;
  /** Who pays (their limits decide the fallback chain and the summary's budget); from admitModelCall. */
  payer?: Payer;
  /** The budget held for this reply (admitModelCall): settled with its usage, or given back. */
  reservation?: Reservation | null;
  /** false: no offline model after the configured ones (the OpenAI-compatible endpoint). */
  offlineFallback?: boolean;
  events?: TurnEvents;
}): Promise<TurnResult> {
  try {
    return await replyToTurn(input);
  } finally {
    // Settled with the reply's usage unless the turn ended before recording any.
    await input.reservation?.release();
  }
}

async function replyToTurn(input: Parameters<typeof runTurn>[0]): Promise<TurnResult> {
  const { conversation, events } = input;
  // A model that cannot be used is a request error; nothing is saved yet.
  const resolved: ResolvedModel = resolveModel(conversation.model);
  const family = resolved.info.tokenizer;
  const settings = turnSettings(conversation, input.settings);

  const userMessage = input.userMessage ?? (await saveUserMessage({ userId: input.userId, conversation, content: input.content }));
  const summary =
    conversation.summary && conversation.summaryThroughSeq ? { text: conversation.summary, throughSeq: conversation.summaryThroughSeq } : null;
  // Only what the summary does not cover: older messages are never sent verbatim again.
  const rows = await loadModelHistory({ conversationId: conversation.id, beforeSeq: userMessage.seq + 1, afterSeq: summary?.throughSeq ?? 0 });
  const budget = contextBudget(resolved.info, replyTokens(resolved.info, settings.maxOutputTokens));
  const grounding =
    conversation.mode === "grounded"
      ? await groundTurn({ ...input, history: rows, passageTokenBudget: Math.min(8_000, Math.floor(budget * 0.4)) })
      : null;

  const blocked = grounding?.kind === "blocked" ? grounding : null;
  const retrieved = grounding?.kind === "retrieved" ? grounding : null;

  // System prompt first, then the summary (a stable prefix for providers' prompt caches), then the
  // passages, then the newest turns — assembled for whichever model of the chain is called.
  const nonce = newPromptNonce();
  const blocks = retrieved ? passageBlocks(retrieved.passages, nonce) : [];
  // Per tokenizer family (a fallback model may count differently): stored counts where they apply,
  // the others counted here, yielding, so that assembling the context counts nothing large.
  const histories = new Map<TokenizerFamily, Promise<HistoryMessage[]>>();
  const history = (family: TokenizerFamily) => {
    let messages = histories.get(family);
    if (!messages) histories.set(family, (messages = withTokenCounts(historyMessages(rows, family), family)));
    return messages;
  };
  const assemble = async (model: ResolvedModel) => {
    const reserved = replyTokens(model.info, settings.maxOutputTokens);
    const system = retrieved ? groundedInstructions(conversation.systemPrompt) : conversation.systemPrompt;
    const context = assembleContext({
      model: model.info,
      reservedOutputTokens: reserved,
      ...(await fitSystemPrompt(system, model.info, reserved)),
      summary,
      passages: blocks.map((text, i) => ({ id: String(i), text })),
      history: await history(model.info.tokenizer),
    });
    // Passages that did not fit are not given to the model.
    const kept = retrieved ? retrieved.passages.slice(0, context.passages.length) : [];
    const part: ContextPart = {
      type: "context",
      tokens: context.tokens.total,
      window: model.info.contextWindow,
      summaryThroughSeq: context.summaryUsed ? (summary?.throughSeq ?? null) : null,
      includedFromSeq: context.includedFromSeq,
      omittedMessages: context.omittedMessages,
      truncated: context.truncated,
    };
    const request: PreparedRequest = {
      system: [context.system, joinPassageBlocks(context.passages.map((p) => p.text))].filter(Boolean).join("\n\n") || null,
      messages: context.messages,
      requestTokens: context.tokens.total,
      maxOutputTokens: reserved,
      volatile: retrieved ? nonce : undefined,
      grounding: retrieved
        ? {
            question: retrieved.question,
            // Quoted with the exact page of their best sentence (the citation's), not the passage's range.
            passages: kept.map((p, i) => ({
              index: p.index,
              filename: p.filename,
              pageStart: retrieved.citations[i]?.pageStart ?? p.pageStart,
              pageEnd: retrieved.citations[i]?.pageEnd ?? p.pageEnd,
              content: p.content,
            })),
          }
        : undefined,
    };
    return { context, kept, part, request };
  };
  const assembled = new Map<string, ReturnType<typeof assemble>>();
  const assembledFor = (model: ResolvedModel) => {
    let entry = assembled.get(model.id);
    if (!entry) assembled.set(model.id, (entry = assemble(model)));
    return entry;
  };
  const primary = await assembledFor(resolved);
  const citations = retrieved ? retrieved.citations.filter((c) => c.index <= primary.kept.length) : [];
  const partsFor = (contextPart: ContextPart) => (retrieved ? [...citations, retrieved.trace, contextPart] : [contextPart]);

  const assistantMessage = await appendMessage({
    conversationId: conversation.id,
    userId: input.userId,
    role: "assistant",
    content: "",
    status: "streaming",
    model: blocked ? null : resolved.id,
    provider: blocked ? null : resolved.provider,
    workerId: env.instanceId,
    parts: blocked ? [] : partsFor(primary.part),
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
  if (retrieved) events?.onSources?.(citations);

  let lastFlush = Date.now();
  let flushing: Promise<void> = Promise.resolve();
  const outcome = await generate({
    userId: input.userId,
    chain: chainFor(resolved, input.payer, { offline: input.offlineFallback }),
    reservation: input.reservation,
    prepare: async (model) => (await assembledFor(model)).request,
    settings,
    signal: input.signal,
    fresh: input.fresh,
    context: { conversationId: conversation.id, messageId: assistantMessage.id },
    onDelta: (delta, textSoFar) => {
      events?.onDelta?.(delta);
      if (Date.now() - lastFlush >= PARTIAL_FLUSH_MS) {
        lastFlush = Date.now();
        flushing = flushing.then(() => savePartialContent({ id: assistantMessage.id, content: textSoFar })).catch(() => {});
      }
    },
  });
  await flushing;
  const { usage, problem } = outcome;
  const answered = outcome.resolved;
  const replyTokenCount = await countTextTokensAsync(outcome.text, answered.info.tokenizer);
  const answeredPart = answered.id === resolved.id ? undefined : partsFor((await assembledFor(answered)).part);
  const saved = await withWriteRetries(() => finishAssistantMessage({
    id: assistantMessage.id,
    conversationId: conversation.id,
    outcome: {
      content: outcome.text,
      status: outcome.aborted ? "aborted" : problem ? "error" : "complete",
      model: answered.id,
      provider: answered.provider,
      fallbackUsed: outcome.fallbackUsed,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cachedTokens: usage.cachedTokens,
      usageEstimated: usage.estimated,
      cached: outcome.cached,
      costUsd: usage.costUsd,
      tokenCount: replyTokenCount,
      tokenFamily: answered.info.tokenizer,
      parts: answeredPart,
      latencyMs: outcome.latencyMs,
      ttftMs: outcome.ttftMs,
      finishReason: outcome.finishReason,
      error: problem ? storedProblem(problem) : null,
    },
    usage: { userId: input.userId, apiKeyId: input.apiKeyId ?? null, reservationId: input.reservation?.id ?? null },
  }), `reply ${assistantMessage.id}`);
  input.reservation?.markSettled();

  // Off the reply's path: fold what no longer fits (or soon will not) into the rolling summary.
  // Planned for the conversation's own model, whichever answered this time.
  const { context } = primary;
  const replyTokensInFamily = answered.info.tokenizer === family ? replyTokenCount : await countTextTokensAsync(outcome.text, family);
  const reply: HistoryMessage[] = outcome.text ? [{ seq: saved.seq, role: "assistant", content: outcome.text, tokens: replyTokensInFamily }] : [];
  const cutoff = Math.max(
    context.needsSummaryThroughSeq ?? 0,
    summaryCutoff({
      model: resolved.info,
      fixedTokens: context.tokens.system + context.tokens.passages,
      history: [...(await history(family)), ...reply],
    }) ?? 0,
  );
  if (cutoff > (summary?.throughSeq ?? 0)) {
    scheduleSummary({ conversation, userId: input.userId, apiKeyId: input.apiKeyId ?? null, payer: input.payer, throughSeq: cutoff });
  }
  return { userMessage, assistantMessage: saved, problem };
}
