import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { getSessionUser } from "@/lib/auth/session";
import type { PublicUser } from "@/lib/db/queries/users";
import { AppError, problemResponse, validationError } from "./errors";

const MAX_JSON_BODY_BYTES = 1024 * 1024;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export function requestIdFor(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

type HandlerArgs<TBody, TQuery> = {
  request: Request;
  requestId: string;
  params: Record<string, string>;
  body: TBody;
  query: TQuery;
};

type Options<TBody extends z.ZodType | undefined, TQuery extends z.ZodType | undefined> = {
  body?: TBody;
  query?: TQuery;
};

type Authenticated = { user: PublicUser };

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

async function readJsonBody(request: Request): Promise<unknown> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BODY_BYTES) {
    throw new AppError("payload_too_large", `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
  }
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY_BYTES) {
    throw new AppError("payload_too_large", `JSON bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
  }
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "The request body is not valid JSON.");
  }
}

function readParams(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) if (typeof value === "string") params[key] = value;
  return params;
}

/**
 * The common part of every route: request id, authentication (401), body/query parsing
 * (400/415/422) and one error format. Credentials are checked before the body is read so an
 * anonymous caller learns nothing about the schema. The handler gets typed, validated input.
 */
function wrap<TBody extends z.ZodType | undefined, TQuery extends z.ZodType | undefined, TAuth>(
  authenticate: (request: Request) => Promise<TAuth>,
  handler: (args: HandlerArgs<Infer<TBody>, Infer<TQuery>> & TAuth) => Promise<Response>,
  options: Options<TBody, TQuery>,
) {
  return async (request: Request, context?: RouteContext): Promise<Response> => {
    const requestId = requestIdFor(request);
    try {
      const auth = await authenticate(request);
      const params = readParams((await context?.params) ?? {});
      let query: unknown = undefined;
      if (options.query) {
        const raw = Object.fromEntries(new URL(request.url).searchParams);
        const parsed = options.query.safeParse(raw);
        if (!parsed.success) throw validationError(parsed.error);
        query = parsed.data;
      }
      let body: unknown = undefined;
      if (options.body) {
        const parsed = options.body.safeParse(await readJsonBody(request));
        if (!parsed.success) throw validationError(parsed.error);
        body = parsed.data;
      }
      const response = await handler({
        ...auth,
        request,
        requestId,
        params,
        body: body as Infer<TBody>,
        query: query as Infer<TQuery>,
      });
      response.headers.set("x-request-id", requestId);
      return response;
    } catch (error) {
      return problemResponse(error, requestId);
    }
  };
}

/** A public route: no credentials needed. */
export function withApi<TBody extends z.ZodType | undefined = undefined, TQuery extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, Infer<TQuery>>) => Promise<Response>,
  options: Options<TBody, TQuery> = {},
) {
  return wrap<TBody, TQuery, object>(async () => ({}), handler, options);
}

async function requireUser(request: Request): Promise<Authenticated> {
  const user = await getSessionUser(request);
  if (!user) throw new AppError("unauthenticated", "Sign in or send a valid API key.");
  return { user };
}

/** A route for signed-in callers (401 otherwise). */
export function withAuth<TBody extends z.ZodType | undefined = undefined, TQuery extends z.ZodType | undefined = undefined>(
  handler: (args: HandlerArgs<Infer<TBody>, Infer<TQuery>> & Authenticated) => Promise<Response>,
  options: Options<TBody, TQuery> = {},
) {
  return wrap<TBody, TQuery, Authenticated>(requireUser, handler, options);
}

export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  return Response.json(data, { status, headers });
}
