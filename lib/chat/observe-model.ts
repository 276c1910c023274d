import { breakerStates } from "@/lib/ai/resilience";
import { log } from "@/lib/log";
import { metrics, modelLabels } from "@/lib/metrics";

/** Which turn a model call belongs to, for its log line (ids only). */
export type CallContext = { conversationId?: string | null; messageId?: string | null };

/** One model call (one attempt), as the code that made it saw it. */
export type ModelCallRecord = CallContext & {
  kind: "chat" | "summary";
  provider: string;
  model: string;
  outcome: "ok" | "error" | "aborted";
  /** The problem code of a failed call. */
  code?: string | null;
  ttftMs: number | null;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Attempts at this model before this one. */
  retries: number;
  /** The model this one stands in for, when a fallback answered. */
  fallbackFrom?: string | null;
  /** Answered from the response cache: no provider was called. */
  cached?: boolean;
};

/** The `model_call` log line and the model metrics (TTFT, duration, tokens, cost), from one record. */
export function recordModelCall(record: ModelCallRecord): void {
  const { provider, model } = record;
  if (!record.cached) {
    const labels = modelLabels(provider, model);
    if (record.ttftMs !== null) metrics.modelTtft.observe(labels, record.ttftMs / 1000);
    metrics.modelCallDuration.observe({ ...labels, outcome: record.outcome }, record.durationMs / 1000);
    if (record.inputTokens > 0) metrics.modelTokens.inc({ ...labels, kind: "input" }, record.inputTokens);
    if (record.outputTokens > 0) metrics.modelTokens.inc({ ...labels, kind: "output" }, record.outputTokens);
    if (record.costUsd > 0) metrics.modelCost.inc(labels, record.costUsd);
  }
  const line = {
    kind: record.kind,
    provider,
    model,
    outcome: record.outcome,
    ...(record.code ? { code: record.code } : {}),
    ttft_ms: record.ttftMs,
    duration_ms: record.durationMs,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cost_usd: record.costUsd,
    retries: record.retries,
    fallback: Boolean(record.fallbackFrom),
    ...(record.fallbackFrom ? { fallback_from: record.fallbackFrom } : {}),
    cached: record.cached ?? false,
    breaker: provider === "offline" ? null : (breakerStates()[provider]?.state ?? "closed"),
    conversation_id: record.conversationId ?? null,
    message_id: record.messageId ?? null,
  };
  if (record.outcome === "error") log.warn(line, "model_call");
  else log.info(line, "model_call");
}
