import { createHash, randomUUID } from "node:crypto";
import type { z } from "zod";
import { looksLikeApiKey } from "@/lib/auth/api-key-token";
import { getSessionUser } from "@/lib/auth/session";
import { authenticateApiKey, type PublicApiKey } from "@/lib/db/queries/api-keys";
import type { SessionUser } from "@/lib/db/queries/users";
import type { ApiKeyScope } from "@/lib/db/schema";
import { withLogContext } from "@/lib/log";
import { isDraining } from "@/lib/shutdown";
import { AppError, problemResponse, validationError } from "./errors";
import { parseIdempotencyKey, withIdempotency } from "./idempotency";
import { observeRequest, problemCodeOf } from "./observe";
import { checkRateLimit, rateLimitHeaders, type RateLimitClass } from "./rate-limit";

export const MAX_JSON_BODY_BYTES = 1024 * 1024;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export function requestIdFor(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** What a wrapper learned about the caller, for the request's log line. */
type Caller = { principal?: Principal };

function withRequestIdHeader(response: Response, requestId: string): Response {
  try {
    response.headers.set("x-request-id", requestId);
    return response;
  } catch {
    // Immutable headers (a fetched or redirect response): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set("x-request-id", requestId);
    return copy;
  }
}

/**
 * Around every API request: its id (the caller's X-Request-Id when sane), on every log line
 * written while it runs and on the response, then one `request` line and the duration histogram.
 */
async function observed(request: Request, run: (requestId: string, caller: Caller) => Promise<Response>): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdFor(request);
  const caller: Caller = {};
  return withLogContext({ request_id: requestId }, async () => {
    const response = withRequestIdHeader(await run(requestId, caller), requestId);
    observeRequest({
      requestId,
      method: request.method,
      pathname: new URL(request.url).pathname,
      status: response.status,
      startedAt,
      userId: caller.principal?.user.id,
      apiKeyId: caller.principal?.apiKey?.id,
      code: await problemCodeOf(response),
    });
    return response;
  });
}

/** A route handler outside the v1 wrappers (next-auth) with the same request id and log line. */
export function withObservation<R extends Request, C>(handler: (request: R, context: C) => Promise<Response>) {
  return (request: R, context: C): Promise<Response> => observed(request, () => handler(request, context));
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

type HandlerArgs<TBody, TQuery> = {
  request: Request;
  requestId: string;
  params: Record<string, string>;
  body: TBody;
  query: TQuery;
  /** The parsed form, for routes declared `multipart`. */
  form: FormData | null;
};

/** Who is calling: a signed-in browser (apiKey null) or an API key acting for its owner. */
export type Principal = { user: SessionUser; apiKey: PublicApiKey | null };

type Options<TBody extends z.ZodType | undefined, TQuery extends z.ZodType | undefined> = {
  body?: TBody;
  query?: TQuery;
  /** The API-key scope this route needs; browser sessions hold every scope. */
  scope?: ApiKeyScope;
  /** Only a browser session may call this route (API keys cannot manage API keys). */
  sessionOnly?: boolean;
  /**
   * Which rate-limit bucket the route draws from; "chat" for routes that call a model. A function
   * picks it from the parsed body (a route that calls a model only for some bodies); the limit is
   * then charged after parsing.
   */
  rateLimit?: RateLimitClass | ((body: Infer<TBody>) => RateLimitClass);
  /** Errors also carry OpenAI's `error` member (for the OpenAI-compatible endpoint). */
  openAiCompatible?: boolean;
  /** false: POSTs are not recorded for Idempotency-Key replay (the response holds a secret). */
  idempotent?: boolean;
  /** The body is multipart/form-data of at most this many bytes (uploads). */
  multipart?: { maxBytes: number };
};

async function readJsonBody(request: Request): Promise<{ text: string; value: unknown }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  const tooLarge = () => new AppError("payload_too_large", `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_JSON_BODY_BYTES) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY_BYTES) throw tooLarge();
  if (text.trim() === "") return { text, value: {} };
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    throw new AppError("invalid_json", "The request body is not valid JSON.");
  }
}

/**
 * Reads a multipart body, counting bytes as they arrive so an oversized upload is refused without
 * being buffered whole. Returns the form and a digest of the raw bytes (the idempotency fingerprint).
 */
async function readMultipartBody(request: Request, maxBytes: number): Promise<{ form: FormData; digest: string }> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the file as multipart/form-data with a `file` field.");
  }
  const tooLarge = () =>
    new AppError("file_too_large", `Uploads are limited to ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MB).`, {
      extensions: { max_bytes: maxBytes },
    });
  // Room for the multipart framing around a file of exactly the limit.
  const limit = maxBytes + 64 * 1024;
  if (Number(request.headers.get("content-length") ?? "0") > limit) throw tooLarge();
  const parts: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      parts.push(value);
    }
  }
  const bytes = Buffer.concat(parts);
  try {
    const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
    return { form, digest: createHash("sha256").update(bytes).digest("hex") };
  } catch {
    throw new AppError("bad_request", "The multipart body could not be parsed.");
  }
}

/** Postgres text cannot hold NUL; say so as a 422 instead of failing in the database. */
function rejectNulCharacters(value: unknown, path: string[] = []): void {
  if (typeof value === "string") {
    if (value.includes("\u0000")) {
      throw new AppError("validation_failed", "Text must not contain NUL characters.", {
        errors: [{ path: path.join("."), message: "contains a NUL character" }],
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => rejectNulCharacters(item, [...path, String(i)]));
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) rejectNulCharacters(item, [...path, key]);
  }
}

function readParams(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) if (typeof value === "string") params[key] = value;
  return params;
}

/** Bearer API key when an Authorization header is present (a bad one is 401 even with a cookie). */
async function authenticate(request: Request): Promise<Principal> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const token = match?.[1];
    if (!token || !looksLikeApiKey(token)) {
      throw new AppError("invalid_api_key", "Send an API key as `Authorization: Bearer bgpt_…`.");
    }
    const found = await authenticateApiKey(token);
    if (!found) throw new AppError("invalid_api_key", "This API key is not valid: it may be revoked or expired.");
    return found;
  }
  const user = await getSessionUser(request);
  if (!user) throw new AppError("unauthenticated", "Sign in or send an API key as `Authorization: Bearer bgpt_…`.");
  return { user, apiKey: null };
}

/** For a route that needs a second scope in some cases (e.g. an upload that also attaches). */
export function assertScope(apiKey: PublicApiKey | null, scope: ApiKeyScope): void {
  if (apiKey && !apiKey.scopes.includes(scope)) {
    throw new AppError("insufficient_scope", `This API key lacks the ${scope} scope.`, { extensions: { required_scope: scope } });
  }
}

function authorize(principal: Principal, options: { scope?: ApiKeyScope; sessionOnly?: boolean }): void {
  if (!principal.apiKey) return;
  if (options.sessionOnly) {
    throw new AppError("session_required", "API keys cannot manage API keys; use a signed-in browser session.");
  }
  if (options.scope && !principal.apiKey.scopes.includes(options.scope)) {
    throw new AppError("insufficient_scope", `This API key lacks the ${options.scope} scope.`, {
      extensions: { required_scope: options.scope },
    });
  }
}

/**
 * Every authenticated route runs the same steps, top to bottom: request id → authenticate (401)
 * → authorize scope (403) → rate limit (429; after parsing when the body picks the bucket) →
 * parse query/body (400/413/415/422) → idempotency
 * (POST) → handler → one error format, with rate-limit headers on every response. Credentials
 * come before the body so an anonymous caller learns nothing about the schema.
 */
export function withAuth<TBody extends z.ZodType | undefined = undefined, TQuery extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, Infer<TQuery>> & Principal) => Promise<Response>,
  options: Options<TBody, TQuery> = {},
) {
  return (request: Request, context?: RouteContext): Promise<Response> => observed(request, async (requestId, caller) => {
    let limitHeaders: Record<string, string> = {};
    const finalize = (response: Response) => {
      for (const [name, value] of Object.entries(limitHeaders)) response.headers.set(name, value);
      return response;
    };
    // A stopping instance finishes the replies it has but starts none (the client retries elsewhere).
    const refuseIfDraining = (kind: RateLimitClass) => {
      if (kind === "chat" && isDraining()) {
        throw new AppError("service_unavailable", "This instance is shutting down; retry shortly.", { headers: { "Retry-After": "5" } });
      }
    };
    const charge = async (principal: Principal, kind: RateLimitClass) => {
      const decision = await checkRateLimit({ userId: principal.user.id, apiKeyId: principal.apiKey?.id ?? null, kind });
      limitHeaders = rateLimitHeaders(decision);
      if (!decision.allowed) {
        throw new AppError("rate_limited", `Too many requests; retry in ${Math.max(1, decision.retryAfterSeconds)} s.`);
      }
    };
    try {
      if (typeof options.rateLimit !== "function") refuseIfDraining(options.rateLimit ?? "default");
      const principal = await authenticate(request);
      caller.principal = principal;
      authorize(principal, options);
      if (typeof options.rateLimit !== "function") await charge(principal, options.rateLimit ?? "default");

      const params = readParams((await context?.params) ?? {});
      let query: unknown = undefined;
      if (options.query) {
        const raw = Object.fromEntries(new URL(request.url).searchParams);
        rejectNulCharacters(raw);
        const parsed = options.query.safeParse(raw);
        if (!parsed.success) throw validationError(parsed.error);
        query = parsed.data;
      }
      let body: unknown = undefined;
      let rawBody = "";
      let form: FormData | null = null;
      if (options.multipart) {
        const read = await readMultipartBody(request, options.multipart.maxBytes);
        form = read.form;
        rawBody = `multipart:${read.digest}`;
      } else if (options.body) {
        const read = await readJsonBody(request);
        rawBody = read.text;
        rejectNulCharacters(read.value);
        const parsed = options.body.safeParse(read.value);
        if (!parsed.success) throw validationError(parsed.error);
        body = parsed.data;
      }
      if (typeof options.rateLimit === "function") {
        const kind = options.rateLimit(body as Infer<TBody>);
        refuseIfDraining(kind);
        await charge(principal, kind);
      }
      const run = () =>
        handler({ ...principal, request, requestId, params, form, body: body as Infer<TBody>, query: query as Infer<TQuery> });
      const response =
        request.method === "POST" && options.idempotent !== false
          ? await withIdempotency(
              {
                userId: principal.user.id,
                key: parseIdempotencyKey(request),
                method: request.method,
                path: new URL(request.url).pathname,
                // JSON and streamed answers to the same body are different responses.
                body: `${request.headers.get("accept") ?? ""}\n${rawBody}`,
                signal: request.signal,
              },
              run,
              (error) => problemResponse(error, requestId, options),
            )
          : await run();
      return finalize(response);
    } catch (error) {
      return finalize(problemResponse(error, requestId, options));
    }
  });
}

/** A public route (no credentials): request id, body parsing and the one error format. */
export function withApi<TBody extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, undefined>) => Promise<Response>,
  options: { body?: TBody } = {},
) {
  return (request: Request, context?: RouteContext): Promise<Response> => observed(request, async (requestId) => {
    try {
      const params = readParams((await context?.params) ?? {});
      let body: unknown = undefined;
      if (options.body) {
        const parsed = options.body.safeParse((await readJsonBody(request)).value);
        if (!parsed.success) throw validationError(parsed.error);
        body = parsed.data;
      }
      return await handler({ request, requestId, params, form: null, body: body as Infer<TBody>, query: undefined });
    } catch (error) {
      return problemResponse(error, requestId);
    }
  });
}

export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  return Response.json(data, { status, headers });
}
