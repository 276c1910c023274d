import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics (`GET /api/metrics`): one registry per process, kept on globalThis so dev-mode
 * module reloads do not register the series twice. Each instance serves its own; Prometheus
 * scrapes them all.
 */

function create() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "botgpt_process_" });
  return {
    registry,
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
}

const holder = globalThis as typeof globalThis & { __botGptMetrics?: ReturnType<typeof create> };

export const metrics = (holder.__botGptMetrics ??= create());

export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
