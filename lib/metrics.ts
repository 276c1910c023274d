import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { knownModels, OFFLINE_MODEL_ID, type ProviderId } from "@/lib/ai/models";
import { errorCatalog } from "@/lib/api/errors";
import { env } from "@/lib/env";

/**
 * Prometheus metrics (`GET /api/metrics`): one registry per process, kept on globalThis so dev-mode
 * module reloads do not register the series twice. Each instance serves its own; Prometheus
 * scrapes them all.
 */

/** Seconds: 5 ms up to 2 min (model calls and slow requests land in the upper buckets). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

function create() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "botgpt_process_" });
  const series = {
    registry,
    httpRequestDuration: new Histogram({
      name: "botgpt_http_request_duration_seconds",
      help: "API request duration until the response headers, by method, route template and status.",
      labelNames: ["method", "route", "status"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    modelTtft: new Histogram({
      name: "botgpt_model_ttft_seconds",
      help: "Time from the model call to its first text token, by provider and model.",
      labelNames: ["provider", "model"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    modelCallDuration: new Histogram({
      name: "botgpt_model_call_duration_seconds",
      help: "Model call duration, by provider, model and outcome (ok, error, aborted).",
      labelNames: ["provider", "model", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    modelTokens: new Counter({
      name: "botgpt_model_tokens_total",
      help: "Tokens billed by model calls, by provider, model and kind (input, output).",
      labelNames: ["provider", "model", "kind"] as const,
      registers: [registry],
    }),
    modelCost: new Counter({
      name: "botgpt_model_cost_usd_total",
      help: "Estimated cost of model calls in US dollars, by provider and model.",
      labelNames: ["provider", "model"] as const,
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: "botgpt_response_cache_hits_total",
      help: "Replies served from the exact-match response cache.",
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: "botgpt_response_cache_misses_total",
      help: "Cacheable requests the response cache could not answer.",
      registers: [registry],
    }),
    retrievalDuration: new Histogram({
      name: "botgpt_retrieval_duration_seconds",
      help: "Time to retrieve evidence chunks for a grounded turn, by mode (hybrid, lexical).",
      labelNames: ["mode"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    ingestionDuration: new Histogram({
      name: "botgpt_ingestion_duration_seconds",
      help: "Time to parse, chunk and index one document, by outcome (ready, failed).",
      labelNames: ["outcome"] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    ingestionQueueDepth: new Gauge({
      name: "botgpt_ingestion_queue_depth",
      help: "Documents waiting for or in ingestion (pending or processing), as last seen by this process.",
      registers: [registry],
    }),
    rateLimitRejections: new Counter({
      name: "botgpt_rate_limit_rejections_total",
      help: "Requests refused with 429 by the rate limiter, by bucket (default, chat, sign_in, sign_up).",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    modelRetries: new Counter({
      name: "botgpt_model_retries_total",
      help: "Model calls retried after a failure, by provider, model and error code.",
      labelNames: ["provider", "model", "code"] as const,
      registers: [registry],
    }),
    modelFallbacks: new Counter({
      name: "botgpt_model_fallbacks_total",
      help: "Replies answered by a model after the first of the chain, by the model that answered.",
      labelNames: ["provider", "model"] as const,
      registers: [registry],
    }),
    breakerTransitions: new Counter({
      name: "botgpt_circuit_breaker_transitions_total",
      help: "Circuit breaker state changes, by provider and the state entered.",
      labelNames: ["provider", "state"] as const,
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: "botgpt_circuit_breaker_state",
      help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    replyWriteFailures: new Counter({
      name: "botgpt_reply_write_failures_total",
      help: "Replies whose final database write failed after every retry (the stream log keeps the text).",
      registers: [registry],
    }),
    streamLogAppendFailures: new Counter({
      name: "botgpt_stream_log_append_failures_total",
      help: "Stream-log batches given up after retries.",
      registers: [registry],
    }),
    activeReplies: new Gauge({
      name: "botgpt_active_streams",
      help: "Replies this process is generating right now.",
      registers: [registry],
    }),
    interruptedReplies: new Counter({
      name: "botgpt_replies_interrupted_total",
      help: "Replies marked interrupted because their writer was gone (start-up and periodic recovery).",
      registers: [registry],
    }),
  };
  // Label values known up front start at zero, so a scrape shows them before the first event (a
  // rate that starts from 0 rather than from nothing). Series labelled by provider and model
  // appear on first use; until then the exposition carries their HELP and TYPE lines.
  for (const kind of ["default", "chat", "sign_in", "sign_up"]) series.rateLimitRejections.inc({ kind }, 0);
  for (const mode of ["hybrid", "lexical"]) series.retrievalDuration.zero({ mode });
  for (const outcome of ["ready", "failed"]) series.ingestionDuration.zero({ outcome });
  return series;
}

const holder = globalThis as typeof globalThis & { __botGptMetrics?: ReturnType<typeof create> };

export const metrics = (holder.__botGptMetrics ??= create());

export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/*
 * Label values from a closed set. Every label that could carry what a caller sent (a method, a
 * model id from a request body, a provider, an error code) goes through one of these, so no request
 * can add a series: anything outside the set is `other`. Routes are bounded by routeLabel.
 */
export const OTHER_LABEL = "other";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const PROVIDERS = new Set<string>(["openai", "groq", "ollama", "offline"] satisfies ProviderId[]);

export const methodLabel = (method: string) => (METHODS.has(method) ? method : OTHER_LABEL);
export const providerLabel = (provider: string) => (PROVIDERS.has(provider) ? provider : OTHER_LABEL);
export const codeLabel = (code: string) => (Object.hasOwn(errorCatalog, code) ? code : OTHER_LABEL);

let namedModels: Set<string> | undefined;

/**
 * The models an operator named — the catalog, MODEL_OVERRIDES and the configured chat, fallback,
 * summary and embedding models — keep their id; any other id (`openai:<anything>` from a request
 * body, an Ollama model named nowhere) is counted as `other`.
 */
export function modelLabel(id: string): string {
  namedModels ??= new Set([
    OFFLINE_MODEL_ID,
    ...(["openai", "groq", "ollama"] as const).flatMap((provider) => knownModels(provider).map((m) => `${provider}:${m.name}`)),
    ...[env.CHAT_MODEL, ...env.FALLBACK_MODELS, env.SUMMARY_MODEL, env.EMBEDDING_MODEL].filter((m): m is string => Boolean(m)),
  ]);
  return namedModels.has(id) ? id : OTHER_LABEL;
}

/** `{ provider, model }` labels for a model call. */
export const modelLabels = (provider: string, model: string) => ({ provider: providerLabel(provider), model: modelLabel(model) });
