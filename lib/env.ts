import os from "node:os";
import { z } from "zod";
import { TOKENIZER_FAMILIES } from "./context/tokenizer-families";

/**
 * The only reader of process.env. Every setting is validated once, typed, and given a default
 * that makes the zero-config start work (embedded PGlite under ./data, the offline model).
 */

const emptyToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());

const intWithDefault = (fallback: number, min = 0) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).default(fallback));

const boolWithDefault = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
      .default(fallback ? "true" : "false")
      .transform((v) => ["1", "true", "yes", "on"].includes(v)),
  );

/** `https://app.example.com` (any case, a trailing slash): scheme, host and port, nothing else. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return `${url.origin}/` === url.href;
  } catch {
    return false;
  }
}

const modelId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*:.+$/, "must look like provider:model, e.g. openai:gpt-4o-mini");

/** Comma-separated model ids. */
const modelIdList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default("")
    .transform((text) => text.split(",").map((id) => id.trim()).filter(Boolean))
    .pipe(z.array(modelId)),
);

const modelOverride = z
  .strictObject({
    context_window: z.number().int().min(512),
    max_output_tokens: z.number().int().min(1),
    tokenizer: z.enum(TOKENIZER_FAMILIES),
    input_per_million: z.number().min(0),
    output_per_million: z.number().min(0),
    cached_input_per_million: z.number().min(0),
  })
  .partial()
  .refine((o) => !o.context_window || !o.max_output_tokens || o.max_output_tokens < o.context_window, {
    message: "max_output_tokens must be below context_window",
  });

/** JSON keyed by model id: `{"ollama:llama3.1": {"context_window": 8192}}`. */
const modelOverrides = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default("{}")
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object keyed by provider:model id" });
        return z.NEVER;
      }
    })
    .pipe(z.record(modelId, modelOverride)),
);

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: intWithDefault(3000, 1),

  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
  ),
  /** PGlite's data directory when DATABASE_URL is unset; `memory://` keeps it in memory (tests). */
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./data")),
  DATABASE_POOL_MAX: intWithDefault(10, 1),
  REDIS_URL: z.preprocess(emptyToUndefined, z.string().regex(/^rediss?:\/\//).optional()),

  AUTH_SECRET: z.preprocess(emptyToUndefined, z.string().min(16).optional()),
  NEXTAUTH_SECRET: z.preprocess(emptyToUndefined, z.string().min(16).optional()),
  NEXTAUTH_URL: optionalUrl,
  ALLOW_SIGNUP: boolWithDefault(true),
  /**
   * Browser origins (comma-separated, e.g. `https://app.example.com`) that may call /api/v1 with
   * an API key: they get CORS answers, never with credentials. Unset = no cross-origin access.
   */
  CORS_ORIGINS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("")
      .transform((text) => text.split(",").map((origin) => origin.trim()).filter(Boolean))
      .pipe(z.array(z.url().refine(isOrigin, "must be an origin: scheme://host[:port], no path")))
      .transform((origins) => origins.map((origin) => new URL(origin).origin)),
  ),

  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  /** Which OpenAI wire protocol `openai:*` models use: the Responses API or Chat Completions. */
  OPENAI_API: z.preprocess(emptyToUndefined, z.enum(["responses", "chat"]).default("responses")),
  GROQ_API_KEY: optionalString,
  GROQ_BASE_URL: optionalUrl,
  /** Ollama or another OpenAI-compatible server for `ollama:*` models; unset = no `ollama:*` model is usable. */
  OLLAMA_BASE_URL: optionalUrl,
  OLLAMA_API_KEY: optionalString,
  /** The context length the Ollama server runs unknown models with (its default is 4,096 below 24 GiB of VRAM). */
  OLLAMA_NUM_CTX: intWithDefault(4_096, 512),
  /** Context window, output limit, tokenizer and prices for models the catalog lacks or gets wrong. */
  MODEL_OVERRIDES: modelOverrides,
  CHAT_MODEL: z.preprocess(emptyToUndefined, modelId.optional()),
  /**
   * Operator allow-list of model ids users may choose; when set it replaces the catalog,
   * MODEL_OVERRIDES and Ollama discovery as the list (the offline model is always listed).
   */
  ALLOWED_MODELS: modelIdList,
  /** Models tried, in order, when CHAT_MODEL (or a conversation's model) fails; the offline model always ends the chain. */
  FALLBACK_MODELS: modelIdList,
  /** Model call time limits: to the first token, between chunks, and in all (ms). */
  MODEL_TTFT_TIMEOUT_MS: intWithDefault(30_000, 100),
  MODEL_IDLE_TIMEOUT_MS: intWithDefault(30_000, 100),
  MODEL_TOTAL_TIMEOUT_MS: intWithDefault(300_000, 1_000),
  /** Bearer token GET /api/metrics requires. Unset and METRICS_PUBLIC off: the endpoint answers 403. */
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16).optional()),
  /** Serve GET /api/metrics without a token (only on a private network); ignored when METRICS_TOKEN is set. */
  METRICS_PUBLIC: boolWithDefault(false),
  /** SSE comment heartbeats on reply streams (at most 15 s, so proxies never time out a quiet stream). */
  STREAM_HEARTBEAT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).max(15_000).default(15_000)),
  /** How long a finished reply's stream log is kept for resuming (Last-Event-ID), in seconds. */
  STREAM_LOG_TTL_SECONDS: intWithDefault(3_600, 1),
  /** A cheaper model for rolling conversation summaries; unset = the conversation's own model. */
  SUMMARY_MODEL: z.preprocess(emptyToUndefined, modelId.optional()),
  /** Delay between the offline model's tokens, so it streams like a real model. */
  OFFLINE_TOKEN_DELAY_MS: intWithDefault(12),

  MAX_MESSAGE_CHARS: intWithDefault(32_000, 1),
  /** Largest JSON request body, in bytes; reading stops there (413), Content-Length or not. */
  MAX_JSON_BODY_BYTES: intWithDefault(1024 * 1024, 1),
  /** Largest body of a sign-up or next-auth request (forms of a few fields), in bytes. */
  MAX_AUTH_BODY_BYTES: intWithDefault(32 * 1024, 1),
  /** Deepest nesting of arrays and objects a JSON body may have (deeper is 400 before parsing). */
  MAX_JSON_DEPTH: intWithDefault(64, 1),
  /** Largest accepted upload, in bytes (default 25 MB). */
  MAX_UPLOAD_BYTES: intWithDefault(25 * 1024 * 1024, 1),
  MAX_PDF_PAGES: intWithDefault(500, 1),
  /** Per-user storage quotas: bytes of uploaded files and number of documents (0 = no limit). */
  STORAGE_QUOTA_BYTES: intWithDefault(1024 * 1024 * 1024),
  MAX_DOCUMENTS_PER_USER: intWithDefault(1_000),
  /** Documents each instance extracts at once (one child process each). */
  INGEST_CONCURRENCY: intWithDefault(2, 1),
  /** Hard memory limit of each extraction child process, in MiB (RLIMIT_DATA plus an RSS watchdog on Linux). */
  INGEST_MEMORY_LIMIT_MB: intWithDefault(512, 128),
  /** What one PDF's compressed streams may inflate to in all, and the text a page and a document may yield. */
  INGEST_MAX_INFLATED_BYTES: intWithDefault(128 * 1024 * 1024, 1),
  INGEST_MAX_PAGE_CHARS: intWithDefault(100_000, 1),
  INGEST_MAX_TEXT_CHARS: intWithDefault(32_000_000, 1),
  /** Time limit per document: a base plus so much per MB of file. */
  INGEST_TIMEOUT_BASE_MS: intWithDefault(30_000, 1),
  INGEST_TIMEOUT_PER_MB_MS: intWithDefault(6_000),
  /** Claims of one document (its process died each time) before it fails for good. */
  INGEST_MAX_ATTEMPTS: intWithDefault(3, 1),
  /** Target chunk size in tokens, and the share of it repeated as overlap. */
  CHUNK_TOKENS: intWithDefault(400, 50),
  CHUNK_OVERLAP: z.preprocess(emptyToUndefined, z.coerce.number().min(0).max(0.5).default(0.15)),
  RETRIEVAL_TOP_K: intWithDefault(6, 1),
  /** Vector-only hits below this cosine similarity are not evidence. */
  RETRIEVAL_MIN_SIMILARITY: z.preprocess(emptyToUndefined, z.coerce.number().min(-1).max(1).default(0.3)),
  /** Embedding model for hybrid retrieval (`openai:text-embedding-3-small` style id); unset = lexical only. */
  EMBEDDING_MODEL: z.preprocess(emptyToUndefined, modelId.optional()),
  /**
   * Exact-match response cache: `deterministic` (default) serves repeats of temperature-0 requests,
   * `always` any repeat, `off` none. In-process LRU, or Redis when REDIS_URL is set.
   */
  RESPONSE_CACHE: z.preprocess(emptyToUndefined, z.enum(["off", "deterministic", "always"]).default("deterministic")),
  RESPONSE_CACHE_TTL_SECONDS: intWithDefault(3_600, 1),
  /** Entries kept by the in-process cache (Redis evicts by its own policy). */
  RESPONSE_CACHE_MAX_ENTRIES: intWithDefault(1_000, 1),

  /** Default spending limits per user and per API key (0 = no limit); the admin CLI sets them per user or key. */
  BUDGET_TOKENS_PER_DAY: intWithDefault(0),
  BUDGET_USD_PER_MONTH: z.preprocess(emptyToUndefined, z.coerce.number().min(0).default(0)),
  API_KEY_BUDGET_TOKENS_PER_DAY: intWithDefault(0),
  API_KEY_BUDGET_USD_PER_MONTH: z.preprocess(emptyToUndefined, z.coerce.number().min(0).default(0)),
  /**
   * How long a budget reservation (a model call's estimated spend, held while it runs) lasts if the
   * process holding it dies before settling it; then the next refused call releases it.
   */
  BUDGET_RESERVATION_TTL_SECONDS: intWithDefault(900, 30),

  /** Requests per minute per user and per API key, all routes. */
  RATE_LIMIT_PER_MINUTE: intWithDefault(600, 1),
  /** Model calls (new messages, completions) per minute per user and per API key. */
  RATE_LIMIT_CHAT_PER_MINUTE: intWithDefault(60, 1),
  /** Sign-in attempts per 15 minutes for one email address, and from one client address. */
  RATE_LIMIT_SIGN_IN_PER_ACCOUNT: intWithDefault(10, 1),
  RATE_LIMIT_SIGN_IN_PER_ADDRESS: intWithDefault(50, 1),
  /** Sign-ups per hour from one client address. */
  RATE_LIMIT_SIGN_UP_PER_ADDRESS: intWithDefault(10, 1),
  /**
   * Reverse proxies in front of the app that append to X-Forwarded-For (0: clients connect
   * directly). The client address is the entry that many hops left of the connection's own.
   */
  TRUST_PROXY: intWithDefault(0),
  /** pino level for the JSON logs on stdout: fatal, error, warn, info, debug, trace or silent. */
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
  /** Debug only: include message and prompt text in logs (off: logs carry ids, sizes and counts, never content). */
  LOG_MESSAGE_CONTENT: boolWithDefault(false),
  /** OTLP/HTTP endpoint for OpenTelemetry traces (e.g. http://collector:4318); unset = no tracing. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_SERVICE_NAME: z.preprocess(emptyToUndefined, z.string().default("bot-gpt")),
  /** How long a stopping process waits for its replies to finish before marking them interrupted (ms). */
  SHUTDOWN_GRACE_MS: intWithDefault(25_000, 0),
  /** Identifies this process's in-flight replies so a restart only recovers its own. */
  INSTANCE_ID: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});

export type Env = z.infer<typeof schema> & { instanceId: string; authSecret: string | undefined };

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = schema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new Error(`Invalid environment configuration:\n${lines.join("\n")}`);
  }
  const parsed = result.data;
  return {
    ...parsed,
    instanceId: parsed.INSTANCE_ID ?? `${os.hostname()}:${parsed.PORT}`,
    authSecret: parsed.AUTH_SECRET ?? parsed.NEXTAUTH_SECRET,
  };
}

export const env: Env = parseEnv(process.env);
