import { type ModelMessage, streamText } from "ai";
import { AppError, type ErrorCode } from "@/lib/api/errors";
import { costUsd, type ModelInfo } from "@/lib/ai/models";
import type { ResolvedModel } from "@/lib/ai/providers";
import { splitIntoTokens, type OfflineGrounding } from "@/lib/ai/offline-model";
import { breakerFor, classifyFailure, planRetry, timedStream, type Failure, type StreamLimits } from "@/lib/ai/resilience";
import { getResponseCache, isCacheable, responseCacheKey } from "@/lib/cache/response-cache";
import { defaultReservedOutputTokens } from "@/lib/context/assemble";
import { countTextTokensAsync } from "@/lib/context/tokens";
import type { Message } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { codeLabel, metrics, modelLabels } from "@/lib/metrics";
import { aiTelemetry } from "@/lib/telemetry";
import { estimateCall, type Reservation } from "@/lib/usage/budget";
import { recordModelCall, type CallContext } from "./observe-model";

/**
 * Model calls for a turn (or a stateless completion): one streamed call under time limits
 * (streamModel), its usage and cost (settleUsage), and a reply from the first model of a fallback
 * chain that can give one — response cache, retries, circuit breakers (generate).
 */

/** Our wording for a provider failure: provider messages can echo request details (keys, prompts). */
function upstreamProblem(failure: Failure, provider: string, cause: unknown): AppError {
  const { status } = failure;
  let code: ErrorCode = "upstream_error";
  let detail = `The ${provider} provider failed to produce a reply.`;
  if (failure.kind === "timeout" || status === 408 || status === 504) {
    code = "upstream_timeout";
    detail = `The ${provider} provider timed out.`;
  } else if (failure.kind === "network") {
    code = "upstream_unavailable";
    detail = `The connection to the ${provider} provider failed.`;
  } else if (status !== undefined) {
    if (status === 429 || status === 503) code = "upstream_unavailable";
    detail = `The ${provider} provider answered HTTP ${status}.`;
  }
  return new AppError(code, detail, { cause });
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
  /** What went wrong, classified once: `problem` is worded from it and the retry decision reads it. */
  failure: Failure | null;
  aborted: boolean;
};

const envLimits = (): StreamLimits => ({ ttftMs: env.MODEL_TTFT_TIMEOUT_MS, idleMs: env.MODEL_IDLE_TIMEOUT_MS, totalMs: env.MODEL_TOTAL_TIMEOUT_MS });

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
  limits?: StreamLimits;
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
      experimental_telemetry: aiTelemetry("chat.reply", { provider: resolved.provider, model: resolved.id }),
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
  const classified = aborted || !failure ? null : classifyFailure(failure);
  const problem = classified ? upstreamProblem(classified, resolved.provider, failure) : null;
  return {
    text,
    ttftMs,
    latencyMs: Math.round(performance.now() - startedAt),
    promptTokens,
    completionTokens,
    cachedTokens,
    finishReason: aborted ? "aborted" : problem ? "error" : finishReason,
    problem,
    failure: classified,
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
export async function settleUsage(outcome: ModelOutcome, requestTokens: number, resolved: ResolvedModel): Promise<Usage> {
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
  const completionTokens = outcome.completionTokens ?? (await countTextTokensAsync(outcome.text, resolved.info.tokenizer));
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

function cacheKeyFor(owner: string, resolved: ResolvedModel, request: PreparedRequest, settings: CallSettings): string | null {
  if (!isCacheable(settings)) return null;
  return responseCacheKey({
    owner,
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
  /** The user the reply is for: the response cache is per user. */
  userId: string;
  chain: ResolvedModel[];
  prepare: (model: ResolvedModel) => PreparedRequest | Promise<PreparedRequest>;
  settings: CallSettings;
  signal: AbortSignal;
  limits?: StreamLimits;
  /** Skip reading the response cache (a regenerated reply is asked for because the last one was not wanted). */
  fresh?: boolean;
  /** The turn's ids, for the model_call log lines. */
  context?: CallContext;
  /** The caller's budget reservation: made to hold each call's exact request before it is sent. */
  reservation?: Reservation | null;
  onDelta?: (delta: string, textSoFar: string) => void;
}): Promise<Generation> {
  const { settings, signal } = input;
  const first = input.chain[0]?.id ?? null;
  const record = (generation: Generation, retries: number) =>
    recordModelCall({
      ...input.context,
      kind: "chat",
      provider: generation.resolved.provider,
      model: generation.resolved.id,
      outcome: generation.aborted ? "aborted" : generation.problem ? "error" : "ok",
      code: generation.problem?.code,
      ttftMs: generation.ttftMs,
      durationMs: generation.latencyMs,
      inputTokens: generation.usage.promptTokens,
      outputTokens: generation.usage.completionTokens,
      costUsd: generation.usage.costUsd,
      retries,
      fallbackFrom: generation.fallbackUsed ? first : null,
      cached: generation.cached,
    });
  let last: Generation | null = null;
  const reasons: string[] = [];
  for (const [index, resolved] of input.chain.entries()) {
    const fallbackUsed = index > 0;
    const breaker = resolved.provider === "offline" ? null : breakerFor(resolved.provider);
    if (breaker && !breaker.canRequest()) {
      reasons.push(`${resolved.id}: circuit open`);
      continue;
    }
    const request = await input.prepare(resolved);
    const key = cacheKeyFor(input.userId, resolved, request, settings);
    const cache = key ? await getResponseCache() : null;
    const hit = key && cache && !input.fresh ? await cache.get(key) : null;
    if (hit) {
      const outcome = await replay(hit.text, hit.finishReason, signal, input.onDelta);
      const generation: Generation = { ...outcome, cached: true, usage: NO_COST, resolved, fallbackUsed };
      record(generation, 0);
      return generation;
    }
    // What this model is sent and may answer, held against the budget before it is called (a
    // fallback with a larger window or a higher price holds more).
    await input.reservation?.resize(estimateCall(resolved.info, request.requestTokens, request.maxOutputTokens));
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
      const generation: Generation = { ...outcome, cached: false, usage: await settleUsage(outcome, request.requestTokens, resolved), resolved, fallbackUsed };
      record(generation, attempt);
      if (outcome.aborted) return generation;
      if (!outcome.problem) {
        breaker?.recordSuccess();
        if (fallbackUsed) metrics.modelFallbacks.inc(modelLabels(resolved.provider, resolved.id));
        if (key && cache && outcome.finishReason === "stop" && outcome.text) {
          await cache.set(
            key,
            { text: outcome.text, finishReason: outcome.finishReason, model: resolved.id, provider: resolved.provider, createdAt: new Date().toISOString() },
            env.RESPONSE_CACHE_TTL_SECONDS,
          );
        }
        return generation;
      }
      const failure = outcome.failure!;
      // Only the provider's own trouble counts against it, not a request it refused as invalid.
      if (failure.retryable) breaker?.recordFailure();
      last = generation;
      // Text already reached the client: retrying or switching models would repeat or contradict it.
      if (outcome.text !== "") return generation;
      const delay = planRetry(failure, attempt, { firstTokenSent: false });
      if (delay === null || (breaker && !breaker.canRequest())) {
        reasons.push(`${resolved.id}: ${outcome.problem.message}${attempt > 0 ? ` (${attempt + 1} attempts)` : ""}`);
        break;
      }
      log.warn({ provider: resolved.provider, model: resolved.id, code: outcome.problem.code, retry: attempt + 1, delay_ms: delay }, "model call retrying");
      metrics.modelRetries.inc({ ...modelLabels(resolved.provider, resolved.id), code: codeLabel(outcome.problem.code) });
      await sleep(delay, signal);
      if (signal.aborted) return { ...generation, aborted: true, problem: null, failure: null, finishReason: "aborted" };
    }
  }
  if (last) return last;
  // Every model skipped (circuits open): a failed reply like any other, so the turn saves it.
  const problem = new AppError("upstream_unavailable", `No model could be called: ${reasons.join("; ")}.`);
  return {
    text: "",
    ttftMs: null,
    latencyMs: 0,
    promptTokens: null,
    completionTokens: null,
    cachedTokens: null,
    finishReason: "error",
    problem,
    failure: null,
    aborted: false,
    usage: NO_COST,
    cached: false,
    resolved: input.chain[0]!,
    fallbackUsed: false,
  };
}

/** Output reserved for the reply: what the caller asked for, within the model's limit and a quarter of its window. */
export function replyTokens(info: ModelInfo, requested?: number): number {
  const ceiling = defaultReservedOutputTokens(info);
  return requested ? Math.min(requested, info.maxOutputTokens, Math.max(ceiling, Math.floor(info.contextWindow / 2))) : ceiling;
}
