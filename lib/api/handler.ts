import type { z } from "zod";
import { looksLikeApiKey } from "@/lib/auth/api-key-token";
import { getSessionUser } from "@/lib/auth/session";
import { authenticateApiKey, type PublicApiKey } from "@/lib/db/queries/api-keys";
import type { SessionUser } from "@/lib/db/queries/users";
import type { ApiKeyScope } from "@/lib/db/schema";
import { withLogContext } from "@/lib/log";
import { isDraining } from "@/lib/shutdown";
import { readJsonBody, readMultipartBody } from "./body";
import { corsHeaders } from "./cors";
import { AppError, problemResponse, validationError } from "./errors";
import { canonicalJson, formFingerprint, parseIdempotencyKey, withIdempotency } from "./idempotency";
import { observeRequest, problemCodeOf } from "./observe";
import { assertSameOrigin } from "./origin";
import { checkRateLimit, rateLimitHeaders, type RateLimitClass } from "./rate-limit";
import { requestIdFrom } from "./request-id";

export function requestIdFor(request: Request): string {
  return requestIdFrom(request.headers.get("x-request-id"));
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** What a wrapper learned about the caller, for the request's log line. */
type Caller = { principal?: Principal };

/** Sets headers on a response (Vary is added to, not replaced); an immutable one is copied first. */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const apply = (target: Response) => {
    for (const [name, value] of Object.entries(headers)) {
      if (name === "vary") target.headers.append(name, value);
      else target.headers.set(name, value);
    }
    return target;
  };
  try {
    return apply(response);
  } catch {
    // Immutable headers (a fetched or redirect response): copy it.
    return apply(new Response(response.body, response));
  }
}

/**
 * Around every API request: its id (the caller's X-Request-Id when sane), on every log line
 * written while it runs and on the response, CORS headers for a listed origin (cors.ts), then one
 * `request` line and the duration histogram. `method`: the one the client sent, when a guard
 * rewrote it (request-guard.ts).
 */
export async function observed(
  request: Request,
  run: (requestId: string, caller: Caller) => Promise<Response>,
  { cors = true, method = request.method }: { cors?: boolean; method?: string } = {},
): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdFor(request);
  const caller: Caller = {};
  return withLogContext({ request_id: requestId }, async () => {
    const response = withHeaders(await run(requestId, caller), { "x-request-id": requestId, ...(cors ? corsHeaders(request) : {}) });
    observeRequest({
      requestId,
      method,
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

/**
 * A route handler outside the v1 wrappers (next-auth) with the same request id, log line and
 * error format. No CORS: these routes are for the app's own pages.
 */
export function withObservation<R extends Request, C>(handler: (request: R, context: C, requestId: string) => Promise<Response>) {
  return (request: R, context: C): Promise<Response> =>
    observed(
      request,
      async (requestId) => {
        try {
          return await handler(request, context, requestId);
        } catch (error) {
          return problemResponse(error, requestId);
        }
      },
      { cors: false },
    );
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
   * picks it from the parsed body (a route that calls a model only for some bodies): the general
   * bucket is charged before parsing, and the one it picks after.
   */
  rateLimit?: RateLimitClass | ((body: Infer<TBody>) => RateLimitClass);
  /** Errors also carry OpenAI's `error` member (for the OpenAI-compatible endpoint). */
  openAiCompatible?: boolean;
  /** false: POSTs are not recorded for Idempotency-Key replay (the response holds a secret). */
  idempotent?: boolean;
  /** The body is multipart/form-data of at most this many bytes (uploads). */
  multipart?: { maxBytes: number };
};

/** Postgres text cannot hold NUL; say so as a 422 instead of failing in the database. (The body's depth is bounded.) */
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

/**
 * Attaching documents to a conversation hands their text to its replies (passages, citations),
 * so naming them takes `documents:read` as well as the conversation scope.
 */
export function assertMayAttach(apiKey: PublicApiKey | null, documentIds: string[] | undefined): void {
  if (documentIds?.length) assertScope(apiKey, "documents:read");
}

/**
 * 403s: a cookie-authenticated request that changes state must come from the app's own origin
 * (origin.ts); API keys cannot manage keys; a key needs the route's scope.
 */
function authorize(request: Request, principal: Principal, options: { scope?: ApiKeyScope; sessionOnly?: boolean }): void {
  if (!principal.apiKey) {
    assertSameOrigin(request);
    return;
  }
  if (options.sessionOnly) {
    throw new AppError("session_required", "API keys cannot manage API keys; use a signed-in browser session.");
  }
  if (options.scope && !principal.apiKey.scopes.includes(options.scope)) {
    throw new AppError("insufficient_scope", `This API key lacks the ${options.scope} scope.`, {
      extensions: { required_scope: options.scope },
    });
  }
}

/** The JSON body checked against the route's schema (and for NUL, which Postgres text cannot hold). */
async function parseJsonBody<T extends z.ZodType>(request: Request, schema: T, maxBytes?: number): Promise<{ value: z.infer<T>; canonical: string }> {
  const read = await readJsonBody(request, maxBytes);
  rejectNulCharacters(read.value);
  const parsed = schema.safeParse(read.value);
  if (!parsed.success) throw validationError(parsed.error);
  return { value: parsed.data, canonical: canonicalJson(read.value) };
}

/**
 * Every authenticated route runs the same steps, top to bottom: request id → authenticate (401)
 * → authorize: same origin for cookies, scope for keys (403) → rate limit (429; a body that picks
 * the model bucket is charged to it after parsing too) → parse query/body (400/413/415/422) →
 * idempotency (POST) →
 * handler → one error format, with rate-limit headers on every response after authentication.
 * Credentials come before the body so an anonymous caller learns nothing about the schema. A
 * refused (403) request is still charged to the bucket, so it carries RateLimit-* too and
 * refusals are not a free way to probe.
 */
export function withAuth<TBody extends z.ZodType | undefined = undefined, TQuery extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, Infer<TQuery>> & Principal) => Promise<Response>,
  options: Options<TBody, TQuery> = {},
) {
  return (request: Request, context?: RouteContext): Promise<Response> => observed(request, async (requestId, caller) => {
    let limitHeaders: Record<string, string> = {};
    const finalize = (response: Response) => withHeaders(response, limitHeaders);
    // A stopping instance finishes the replies it has but starts none (the client retries elsewhere).
    const refuseIfDraining = (kind: RateLimitClass) => {
      if (kind === "chat" && isDraining()) {
        throw new AppError("service_unavailable", "This instance is shutting down; retry shortly.", { headers: { "Retry-After": "5" } });
      }
    };
    // Charges the bucket (its headers go on the response), then throws a refusal found before it.
    const charge = async (principal: Principal, kind: RateLimitClass, refusal: unknown = null) => {
      const decision = await checkRateLimit({ userId: principal.user.id, apiKeyId: principal.apiKey?.id ?? null, kind });
      limitHeaders = rateLimitHeaders(decision);
      if (refusal) throw refusal;
      if (!decision.allowed) {
        throw new AppError("rate_limited", `Too many requests; retry in ${Math.max(1, decision.retryAfterSeconds)} s.`);
      }
    };
    try {
      const fixedKind = typeof options.rateLimit === "function" ? null : (options.rateLimit ?? "default");
      if (fixedKind) refuseIfDraining(fixedKind);
      const principal = await authenticate(request);
      caller.principal = principal;
      let refusal: unknown = null;
      try {
        authorize(request, principal, options);
      } catch (error) {
        refusal = error;
      }
      // Charged before the body is read, a refused (403) request included; a route whose body picks
      // the bucket draws from the general one now and, when the body calls a model, the model's too.
      await charge(principal, fixedKind ?? "default", refusal);

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
      // What identifies the request for Idempotency-Key: its content, not its encoding.
      let fingerprint = "";
      let form: FormData | null = null;
      if (options.multipart) {
        form = await readMultipartBody(request, options.multipart.maxBytes);
        fingerprint = `multipart:${await formFingerprint(form)}`;
      } else if (options.body) {
        const parsed = await parseJsonBody(request, options.body);
        body = parsed.value;
        fingerprint = parsed.canonical;
      }
      if (typeof options.rateLimit === "function") {
        const kind = options.rateLimit(body as Infer<TBody>);
        refuseIfDraining(kind);
        // The general bucket was charged above.
        if (kind !== "default") await charge(principal, kind);
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
                body: `${request.headers.get("accept") ?? ""}\n${fingerprint}`,
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

/**
 * A public route (no credentials): request id, body parsing and the one error format. A
 * state-changing request without an API key (sign-up) must come from the app's own origin.
 */
export function withApi<TBody extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, undefined>) => Promise<Response>,
  options: { body?: TBody; maxBodyBytes?: number } = {},
) {
  return (request: Request, context?: RouteContext): Promise<Response> => observed(request, async (requestId) => {
    try {
      if (!request.headers.has("authorization")) assertSameOrigin(request);
      const params = readParams((await context?.params) ?? {});
      const body = options.body ? (await parseJsonBody(request, options.body, options.maxBodyBytes)).value : undefined;
      return await handler({ request, requestId, params, form: null, body: body as Infer<TBody>, query: undefined });
    } catch (error) {
      return problemResponse(error, requestId);
    }
  });
}

export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  return Response.json(data, { status, headers });
}
