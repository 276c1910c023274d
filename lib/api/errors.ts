import { z } from "zod";
import { log } from "@/lib/log";

/** Every machine-readable error code the API can return, with its HTTP status and title. */
export const errorCatalog = {
  invalid_json: { status: 400, title: "Malformed JSON body" },
  invalid_cursor: { status: 400, title: "Invalid pagination cursor" },
  bad_request: { status: 400, title: "Bad request" },
  invalid_last_event_id: { status: 400, title: "Invalid Last-Event-ID" },
  context_length_exceeded: { status: 400, title: "Input exceeds the model's context window" },
  unauthenticated: { status: 401, title: "Authentication required" },
  invalid_credentials: { status: 401, title: "Invalid credentials" },
  invalid_api_key: { status: 401, title: "Invalid API key" },
  forbidden: { status: 403, title: "Forbidden" },
  insufficient_scope: { status: 403, title: "Missing scope" },
  session_required: { status: 403, title: "Browser session required" },
  signup_disabled: { status: 403, title: "Sign-up is disabled" },
  account_disabled: { status: 403, title: "Account disabled" },
  cross_origin_request: { status: 403, title: "Cross-origin request refused" },
  not_found: { status: 404, title: "Not found" },
  conversation_not_found: { status: 404, title: "Conversation not found" },
  message_not_found: { status: 404, title: "Message not found" },
  api_key_not_found: { status: 404, title: "API key not found" },
  document_not_found: { status: 404, title: "Document not found" },
  route_not_found: { status: 404, title: "No such endpoint" },
  stream_not_found: { status: 404, title: "No stream for this message" },
  model_not_found: { status: 404, title: "Model not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  email_taken: { status: 409, title: "Email already registered" },
  conflict: { status: 409, title: "Conflict" },
  idempotency_key_reused: { status: 409, title: "Idempotency key reused with a different request" },
  idempotency_in_progress: { status: 409, title: "A request with this idempotency key is still in progress" },
  not_last_reply: { status: 409, title: "Not the conversation's last reply" },
  reply_in_progress: { status: 409, title: "A reply is still being generated" },
  stream_expired: { status: 410, title: "Stream log expired" },
  payload_too_large: { status: 413, title: "Request body too large" },
  file_too_large: { status: 413, title: "File too large" },
  // 413, not 429: waiting does not help (only deleting does), and clients retry 429 by themselves.
  quota_exceeded: { status: 413, title: "Storage quota exceeded" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  unsupported_file_type: { status: 415, title: "Unsupported file type" },
  validation_failed: { status: 422, title: "Validation failed" },
  model_not_available: { status: 422, title: "Model not available" },
  model_not_priced: { status: 422, title: "Model has no price" },
  empty_file: { status: 422, title: "The file is empty" },
  too_many_pages: { status: 422, title: "The document has too many pages" },
  encrypted_document: { status: 422, title: "The document is password-protected" },
  corrupt_document: { status: 422, title: "The document is corrupt or truncated" },
  invalid_encoding: { status: 422, title: "The text is not valid UTF-8" },
  no_extractable_text: { status: 422, title: "The document has no extractable text" },
  document_too_complex: { status: 422, title: "The document expands beyond the server's limits" },
  rate_limited: { status: 429, title: "Too many requests" },
  budget_exceeded: { status: 429, title: "Budget exceeded" },
  internal_error: { status: 500, title: "Internal server error" },
  upstream_error: { status: 502, title: "The model provider returned an error" },
  upstream_unavailable: { status: 503, title: "The model provider is unavailable" },
  upstream_timeout: { status: 504, title: "The model provider timed out" },
  service_unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export type FieldError = { path: string; message: string };

export type Problem = {
  [extension: string]: unknown;
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ErrorCode;
  request_id?: string;
  errors?: FieldError[];
};

export const ERROR_TYPE_BASE = "https://bot-gpt.dev/errors/";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  /** Extra problem members (RFC 9457 extensions), e.g. the scope that was missing. */
  readonly extensions?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { errors?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown>; cause?: unknown },
  ) {
    super(detail ?? errorCatalog[code].title, { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.status = errorCatalog[code].status;
    this.errors = options?.errors;
    this.headers = options?.headers;
    this.extensions = options?.extensions;
  }

  toProblem(requestId?: string): Problem {
    const entry = errorCatalog[this.code];
    return {
      ...this.extensions,
      type: `${ERROR_TYPE_BASE}${this.code}`,
      title: entry.title,
      status: entry.status,
      detail: this.message,
      code: this.code,
      ...(requestId ? { request_id: requestId } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export function validationError(error: z.ZodError, prefix: string[] = []): AppError {
  const errors = error.issues.map((issue) => {
    const pathParts = [...prefix, ...issue.path.map(String)];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...pathParts, key].join("."), message: "Unknown field" }));
    }
    return [{ path: pathParts.join("."), message: issue.message }];
  });
  return new AppError("validation_failed", "The request did not match the schema.", {
    errors: errors.flat(),
  });
}

/** Turns any thrown value into an AppError; internals are logged, never sent to the caller. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) return validationError(error);
  log.error({ err: error }, "unhandled error");
  return new AppError("internal_error", "Something went wrong on our side. Try again later.");
}

/** OpenAI's name for a class of error, which its client libraries and integrators switch on. */
function openAiErrorType(status: number, code: ErrorCode): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return code === "budget_exceeded" ? "insufficient_quota" : "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** OpenAI's `error` member for a problem: OpenAI's error type, our code, the first failing field. */
export function openAiError(problem: Problem) {
  return { message: problem.detail ?? problem.title, type: openAiErrorType(problem.status, problem.code), param: problem.errors?.[0]?.path ?? null, code: problem.code };
}

/**
 * The one error renderer. `openAiCompatible` adds OpenAI's `error` member to the problem so the
 * official client libraries surface our message and code too, and answers a request that fails
 * validation 400 as OpenAI does (the native API keeps 422).
 */
export function problemResponse(error: unknown, requestId: string, options: { openAiCompatible?: boolean } = {}): Response {
  const appError = toAppError(error);
  const headers = new Headers(appError.headers);
  headers.set("content-type", "application/problem+json");
  headers.set("x-request-id", requestId);
  const problem = appError.toProblem(requestId);
  if (options.openAiCompatible && appError.code === "validation_failed") problem.status = 400;
  const body = options.openAiCompatible ? { ...problem, error: openAiError(problem) } : problem;
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers,
  });
}
