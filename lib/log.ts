import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import pino from "pino";
import { env } from "@/lib/env";

/**
 * Structured JSON logs on stdout, one object per line. Secrets and message text never reach them:
 * the paths below are censored wherever they appear, and callers log ids, sizes and counts rather
 * than content (text only when LOG_MESSAGE_CONTENT is on, for debugging).
 */
export const SECRET_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "api_key",
  "*.api_key",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "cookie",
  "*.cookie",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
];

/** Message text, censored unless LOG_MESSAGE_CONTENT is on. */
export const CONTENT_PATHS = [
  "content",
  "*.content",
  "prompt",
  "*.prompt",
  "text",
  "*.text",
  "messages",
  "*.messages",
];

/** Fields every line written while handling one request carries (its request id). */
export type LogContext = { request_id?: string };

const holder = globalThis as typeof globalThis & {
  __botGptLog?: pino.Logger;
  __botGptLogContext?: AsyncLocalStorage<LogContext>;
  __botGptLogSink?: { target: pino.DestinationStream };
};

const context = (holder.__botGptLogContext ??= new AsyncLocalStorage<LogContext>());

/** Runs `fn` with `fields` on every log line written inside it, across awaits and callbacks. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** Runs `fn` outside any request's context (work shared by requests, like the ingestion loop). */
export function withoutLogContext<T>(fn: () => T): T {
  return context.exit(fn);
}

// What AI SDK and HTTP client errors carry besides their message: request bodies (prompts, keys),
// response bodies and headers. Dropped from every logged error, its causes included.
// Database errors carry the query's bound values (`params`: message text, emails) as a field and,
// in Drizzle's, at the end of the message; the SQL itself (placeholders only) stays.
const UNSAFE_ERROR_FIELDS = ["requestBodyValues", "responseBody", "responseHeaders", "data", "value", "text", "prompt", "config", "request", "response", "params"];

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(error) };
  for (const field of UNSAFE_ERROR_FIELDS) delete serialized[field];
  // Drizzle's message is "Failed query: <sql>\nparams: <the values, joined>": take exactly those out.
  const params = (error as { params?: unknown }).params;
  const bound = Array.isArray(params) && params.length > 0 ? String(params) : "";
  for (const field of ["message", "stack"]) {
    const value = serialized[field];
    if (bound && typeof value === "string") serialized[field] = value.split(bound).join("[redacted]");
  }
  if (error.cause instanceof Error) serialized.cause = serializeError(error.cause);
  return serialized;
}

export function createLogger(destination?: pino.DestinationStream) {
  return pino(
    {
      level: env.LOG_LEVEL,
      base: { service: "bot-gpt", instance: env.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A copy: pino merges each line's fields into the object the mixin returns.
      mixin: () => ({ ...context.getStore() }),
      redact: { paths: env.LOG_MESSAGE_CONTENT ? SECRET_PATHS : [...SECRET_PATHS, ...CONTENT_PATHS], censor: "[redacted]" },
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}

// Lines go through a sink whose target tests can swap (redirectLogs); by default, stdout.
const sink = (holder.__botGptLogSink ??= { target: pino.destination({ dest: 1, sync: true }) });

/** The process's logger (kept on globalThis so dev-mode reloads share one). */
export const log: pino.Logger = (holder.__botGptLog ??= createLogger({ write: (line: string) => sink.target.write(line) }));

/** Sends the process's log lines to `destination` until the returned function is called (tests). */
export function redirectLogs(destination: pino.DestinationStream): () => void {
  const previous = sink.target;
  sink.target = destination;
  return () => {
    sink.target = previous;
  };
}

/** A stable, non-reversible id for a user in logs (joins lines without storing the id itself). */
export function userHash(userId: string | null | undefined): string | null {
  if (!userId) return null;
  return createHash("sha256").update(`${env.authSecret ?? "bot-gpt"}:${userId}`).digest("hex").slice(0, 16);
}

/** Message text for a log line only when LOG_MESSAGE_CONTENT is on; otherwise its length. */
export function contentForLog(text: string): { chars: number; text?: string } {
  return env.LOG_MESSAGE_CONTENT ? { chars: text.length, text } : { chars: text.length };
}

/** The message of an unknown thrown value, for log fields. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
