import { APICallError, type ModelMessage, streamText } from "ai";
import { AppError, type ErrorCode } from "@/lib/api/errors";
import { costUsd, type ModelInfo } from "@/lib/ai/models";
import { modelChain, resolveModel, type ResolvedModel } from "@/lib/ai/providers";
import { splitIntoTokens, type OfflineGrounding } from "@/lib/ai/offline-model";
import { groundedInstructions, joinPassageBlocks, newPromptNonce, passageBlocks } from "@/lib/ai/prompts";
import { breakerFor, classifyFailure, MAX_RETRIES, retryDelayMs, timedStream } from "@/lib/ai/resilience";
import { getResponseCache, isCacheable, responseCacheKey } from "@/lib/cache/response-cache";
import { assembleContext, contextBudget, defaultReservedOutputTokens, summaryCutoff, type HistoryMessage } from "@/lib/context/assemble";
import { countTextTokens, type TokenizerFamily } from "@/lib/context/tokens";
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
import { scheduleSummary } from "./summarize";

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
  /** Prompt tokens the provider served from its prompt cache. */
  cachedTokens: number | null;
  finishReason: string | null;
  /** Set when the provider failed (not when the caller aborted). */
  problem: AppError | null;
  /** The error behind `problem`, for the retry decision. */
  failure: unknown;
  aborted: boolean;
};

export type TimeLimits = { ttftMs: number; idleMs: number; totalMs: number };

const envLimits = (): TimeLimits => ({ ttftMs: env.MODEL_TTFT_TIMEOUT_MS, idleMs: env.MODEL_IDLE_TIMEOUT_MS, totalMs: env.MODEL_TOTAL_TIMEOUT_MS });

/**
 * One streamed model call under the time limits (to the first token, between chunks, in all): a
 * limit that passes cancels the provider request and ends the call as an upstream timeout. Deltas
 * go to `onDelta`; the outcome says how it ended. Never throws.
 */
export async function streamModel(input: {
  resolved: ResolvedModel;
  system: string | null;
  messages: ModelMessage[];
  signal: AbortSignal;
  settings?: CallSettings;
  limits?: TimeLimits;
  /** Grounded turns: the passages, for a model that uses them directly (the offline model). */
  grounding?: OfflineGrounding;
  /** Offline fallback: why the configured models could not answer. */
  unavailable?: string;
  onDelta?: (delta: string, textSoFar: string) => void;
}): Promise<ModelOutcome> {
  const { resolved } = input;
  const startedAt = performance.now();
  const timeout = new AbortController();
  let text = "";
  let ttftMs: number | null = null;
  let promptTokens: number | null = null;
  let completionTokens: number | null = null;
  let cachedTokens: number | null = null;
  let finishReason: string | null = null;
  let failure: unknown = null;
  try {
    const botgpt = { ...(input.grounding ? { grounding: input.grounding } : {}), ...(input.unavailable ? { unavailable: input.unavailable } : {}) };
    const result = streamText({
      model: resolved.model,
      system: input.system ?? undefined,
      messages: input.messages,
      abortSignal: AbortSignal.any([input.signal, timeout.signal]),
      temperature: input.settings?.temperature,
      topP: input.settings?.topP,
      stopSequences: input.settings?.stopSequences,
      maxOutputTokens: Math.min(input.settings?.maxOutputTokens ?? resolved.info.maxOutputTokens, resolved.info.maxOutputTokens),
      // The resilience layer owns retries; the SDK's own would stack on top of it.
      maxRetries: 0,
      providerOptions: { openai: { store: false }, ...(Object.keys(botgpt).length > 0 ? { botgpt } : {}) },
      // Failures arrive as stream parts and are handled below; the default handler would log them.
      onError: () => {},
    });
    const parts = timedStream(result.fullStream, input.limits ?? envLimits(), {
      isFirstToken: (part) => part.type === "text-delta",
      signal: input.signal,
      onTimeout: (error) => timeout.abort(error),
    });
    for await (const part of parts) {
      if (part.type === "text-delta") {
        if (ttftMs === null) ttftMs = Math.round(performance.now() - startedAt);
        text += part.text;
        input.onDelta?.(part.text, text);
      } else if (part.type === "finish") {
        promptTokens = part.totalUsage.inputTokens ?? null;
        completionTokens = part.totalUsage.outputTokens ?? null;
        cachedTokens = part.totalUsage.inputTokenDetails?.cacheReadTokens ?? null;
        finishReason = part.finishReason;
      } else if (part.type === "error") {
        failure = part.error;
      }
    }
  } catch (error) {
    failure = error;
  }
  if (timeout.signal.aborted && !input.signal.aborted) failure = timeout.signal.reason;
  const aborted = input.signal.aborted;
  const problem = aborted || !failure ? null : upstreamProblem(failure, resolved.provider);
  return {
    text,
    ttftMs,
    latencyMs: Math.round(performance.now() - startedAt),
    promptTokens,
    completionTokens,
    cachedTokens,
    finishReason: aborted ? "aborted" : problem ? "error" : finishReason,
    problem,
    failure: aborted ? null : failure,
    aborted,
  };
}

export type Usage = {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** The provider reported no usage: the counts are ours. */
  estimated: boolean;
};

export type Generation = ModelOutcome & {
  usage: Usage;
  cached: boolean;
  /** The model that answered (or last failed). */
  resolved: ResolvedModel;
  /** A model after the first in the chain answered. */
  fallbackUsed: boolean;
};

/** A model call's request, assembled for one model (its window and tokenizer). */
export type PreparedRequest = {
  system: string | null;
  messages: Array<{ role: "user" | "assistant"; content: string }>;
  /** What the request carries, by our count (the usage estimate when the provider sends none). */
  requestTokens: number;
  maxOutputTokens: number;
  grounding?: OfflineGrounding;
  /** A per-request random string in `system` that must not defeat the cache (the passage nonce). */
  volatile?: string;
};

/**
 * What a call cost: the provider's usage, or our count of what was sent (`requestTokens`) and
 * received when it reported none. A call that failed before producing anything is not billed.
 */
export function settleUsage(outcome: ModelOutcome, requestTokens: number, resolved: ResolvedModel): Usage {
  if (outcome.promptTokens !== null && outcome.completionTokens !== null) {
    const cachedTokens = outcome.cachedTokens ?? 0;
    return {
      promptTokens: outcome.promptTokens,
      completionTokens: outcome.completionTokens,
      cachedTokens,
      costUsd: costUsd(resolved.info, outcome.promptTokens, outcome.completionTokens, cachedTokens),
      estimated: false,
    };
  }
  if (outcome.problem && outcome.text === "") return { promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, estimated: false };
  const promptTokens = outcome.promptTokens ?? requestTokens;
  const completionTokens = outcome.completionTokens ?? countTextTokens(outcome.text, resolved.info.tokenizer);
  return { promptTokens, completionTokens, cachedTokens: 0, costUsd: costUsd(resolved.info, promptTokens, completionTokens), estimated: true };
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

function cacheKeyFor(resolved: ResolvedModel, request: PreparedRequest, settings: CallSettings): string | null {
  if (!isCacheable(settings)) return null;
  return responseCacheKey({
    model: resolved.id,
    system: request.volatile && request.system ? request.system.replaceAll(request.volatile, "\u2063") : request.system,
    messages: request.messages,
    settings: { ...settings, maxOutputTokens: request.maxOutputTokens },
  });
}

/** A cached reply, streamed in word-sized pieces like a live one: no model call, no tokens. */
async function replay(text: string, finishReason: string | null, signal: AbortSignal, onDelta?: (delta: string, textSoFar: string) => void): Promise<ModelOutcome> {
  const startedAt = performance.now();
  let sent = "";
  let ttftMs: number | null = null;
  for (const piece of splitIntoTokens(text)) {
    if (signal.aborted) break;
    sent += piece;
    ttftMs ??= Math.round(performance.now() - startedAt);
    onDelta?.(piece, sent);
    await yieldToIo();
  }
  const aborted = signal.aborted;
  return {
    text: sent,
    ttftMs,
    latencyMs: Math.round(performance.now() - startedAt),
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    finishReason: aborted ? "aborted" : finishReason,
    problem: null,
    failure: null,
    aborted,
  };
}

const NO_COST: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, estimated: false };

/**
 * A reply from the first model in `chain` that can give one. Each model: skipped while its
 * provider's circuit breaker is open; answered from the response cache when the settings allow;
 * otherwise called, with up to MAX_RETRIES retries (backoff, Retry-After honoured) while nothing has
 * reached the client. A model that still fails hands over to the next; the chain ends with the
 * offline model, which always answers. Once text has been streamed there is no retry and no
 * fallback: the reply ends as an error with its partial text.
 */
export async function generate(input: {
  chain: ResolvedModel[];
  prepare: (model: ResolvedModel) => PreparedRequest;
  settings: CallSettings;
  signal: AbortSignal;
  limits?: TimeLimits;
  onDelta?: (delta: string, textSoFar: string) => void;
}): Promise<Generation> {
  const { settings, signal } = input;
  let last: Generation | null = null;
  const reasons: string[] = [];
  for (const [index, resolved] of input.chain.entries()) {
    const fallbackUsed = index > 0;
    const breaker = resolved.provider === "offline" ? null : breakerFor(resolved.provider);
    if (breaker && !breaker.canRequest()) {
      reasons.push(`${resolved.id}: circuit open`);
      continue;
    }
    const request = input.prepare(resolved);
    const key = cacheKeyFor(resolved, request, settings);
    const cache = key ? await getResponseCache() : null;
    const hit = key && cache ? await cache.get(key) : null;
    if (hit) {
      const outcome = await replay(hit.text, hit.finishReason, signal, input.onDelta);
      return { ...outcome, cached: true, usage: NO_COST, resolved, fallbackUsed };
    }
    for (let attempt = 0; ; attempt++) {
      const outcome = await streamModel({
        resolved,
        system: request.system,
        messages: toModelMessages(request.messages),
        signal,
        settings: { ...settings, maxOutputTokens: request.maxOutputTokens },
        limits: input.limits,
        grounding: request.grounding,
        unavailable: fallbackUsed && resolved.provider === "offline" ? reasons.join("; ") : undefined,
        onDelta: input.onDelta,
      });
      const generation: Generation = { ...outcome, cached: false, usage: settleUsage(outcome, request.requestTokens, resolved), resolved, fallbackUsed };
      if (outcome.aborted) return generation;
      if (!outcome.problem) {
        breaker?.recordSuccess();
        if (key && cache && outcome.finishReason === "stop" && outcome.text) {
          await cache.set(
            key,
            { text: outcome.text, finishReason: outcome.finishReason, model: resolved.id, provider: resolved.provider, createdAt: new Date().toISOString() },
            env.RESPONSE_CACHE_TTL_SECONDS,
          );
        }
        return generation;
      }
      const failure = classifyFailure(outcome.failure);
      // Only the provider's own trouble counts against it, not a request it refused as invalid.
      if (failure.retryable) breaker?.recordFailure();
      last = generation;
      // Text already reached the client: retrying or switching models would repeat or contradict it.
      if (outcome.text !== "") return generation;
      const delay = failure.retryable && attempt < MAX_RETRIES ? retryDelayMs(attempt, failure) : null;
      if (delay === null || (breaker && !breaker.canRequest())) {
        reasons.push(`${resolved.id}: ${outcome.problem.message}${attempt > 0 ? ` (${attempt + 1} attempts)` : ""}`);
        break;
      }
      console.warn(`${resolved.id} failed (${outcome.problem.code}); retry ${attempt + 1} of ${MAX_RETRIES} in ${delay} ms`);
      await sleep(delay, signal);
      if (signal.aborted) return { ...generation, aborted: true, problem: null, failure: null, finishReason: "aborted" };
    }
  }
  if (last) return last;
  throw new AppError("upstream_unavailable", `No model could be called: ${reasons.join("; ")}.`);
}

/** Output reserved for the reply: what the caller asked for, within the model's limit and a quarter of its window. */
export function replyTokens(info: ModelInfo, requested?: number): number {
  const ceiling = defaultReservedOutputTokens(info);
  return requested ? Math.min(requested, info.maxOutputTokens, Math.max(ceiling, Math.floor(info.contextWindow / 2))) : ceiling;
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
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delay = WRITE_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) {
        console.error(`saving ${what} failed after ${attempt + 1} attempts`, error instanceof Error ? error.message : error);
        throw error;
      }
      console.warn(`saving ${what} failed; retrying in ${delay} ms`, error instanceof Error ? error.message : error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
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
      tokens: { count: countTextTokens(input.content, family), family },
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    console.error("saving the user message failed", error instanceof Error ? error.message : error);
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
  events?: TurnEvents;
}): Promise<TurnResult> {
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
  const assemble = (model: ResolvedModel) => {
    const reserved = replyTokens(model.info, settings.maxOutputTokens);
    const context = assembleContext({
      model: model.info,
      reservedOutputTokens: reserved,
      system: retrieved ? groundedInstructions(conversation.systemPrompt) : conversation.systemPrompt,
      summary,
      passages: blocks.map((text, i) => ({ id: String(i), text })),
      history: historyMessages(rows, model.info.tokenizer),
    });
    // Passages that did not fit are not given to the model.
    const kept = retrieved ? retrieved.passages.slice(0, retrieved.passages.length === 0 ? 0 : context.passages.length) : [];
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
  const primary = assembledFor(resolved);
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
    chain: modelChain(resolved),
    prepare: (model) => assembledFor(model).request,
    settings,
    signal: input.signal,
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
  const replyTokenCount = countTextTokens(outcome.text, answered.info.tokenizer);
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
      parts: answered.id === resolved.id ? undefined : partsFor(assembledFor(answered).part),
      latencyMs: outcome.latencyMs,
      ttftMs: outcome.ttftMs,
      finishReason: outcome.finishReason,
      error: problem ? storedProblem(problem) : null,
    },
    usage: { userId: input.userId, apiKeyId: input.apiKeyId ?? null },
  }), `reply ${assistantMessage.id}`);

  // Off the reply's path: fold what no longer fits (or soon will not) into the rolling summary.
  // Planned for the conversation's own model, whichever answered this time.
  const { context } = primary;
  const reply: HistoryMessage[] = outcome.text ? [{ seq: saved.seq, role: "assistant", content: outcome.text, tokens: countTextTokens(outcome.text, family) }] : [];
  const cutoff = Math.max(
    context.needsSummaryThroughSeq ?? 0,
    summaryCutoff({
      model: resolved.info,
      fixedTokens: context.tokens.system + context.tokens.passages,
      history: [...historyMessages(rows, family), ...reply],
    }) ?? 0,
  );
  if (cutoff > (summary?.throughSeq ?? 0)) {
    scheduleSummary({ conversation, userId: input.userId, apiKeyId: input.apiKeyId ?? null, throughSeq: cutoff });
  }
  return { userMessage, assistantMessage: saved, problem };
}
