import { preflightHeaders } from "./cors";
import { AppError, problemResponse } from "./errors";
import { observed } from "./handler";
import { HTTP_METHODS, UNSUPPORTED_METHOD_HEADER, type HttpMethod } from "./request-guard";

/**
 * The methods a route does not implement, answered by our code rather than Next.js's (whose OPTIONS
 * and 405 carry no X-Request-Id, and whose 405 has neither `Allow` nor a problem body):
 *
 *   export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
 *
 * OPTIONS answers 204 with `Allow` (and a CORS preflight for CORS_ORIGINS); the rest are 405
 * `method_not_allowed` with `Allow`. HEAD is left to Next.js when there is a GET (it runs GET). test/integration/methods.test.ts checks that
 * every route under app/api exports every method.
 */

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };
// Any route export: next-auth's narrows the request and context types.
type Handler = (...args: never[]) => Promise<Response>;
type Answer = (request: Request, context?: RouteContext) => Promise<Response>;
/** What a route still has to export: every method it lacks, but HEAD when GET answers it. */
type Missing<T> = Exclude<HttpMethod, keyof T | (T extends { GET: Handler } ? "HEAD" : never)>;

function methodNotAllowed(method: string, allow: string): AppError {
  return new AppError("method_not_allowed", `${method} is not supported here; this endpoint allows ${allow}.`, {
    headers: { allow },
  });
}

/** Marks the answers below, so a check can tell a route's own methods from the ones it refuses. */
const REFUSAL = Symbol("bot-gpt.other-method");

/** Whether a route export is one of otherMethods' answers (OPTIONS or 405), not a handler of its own. */
export function isOtherMethod(value: unknown): boolean {
  return typeof value === "function" && REFUSAL in value;
}

export function otherMethods<T extends Partial<Record<HttpMethod, Handler>>>(implemented: T): Record<Missing<T>, Answer> {
  const names = new Set<string>(Object.keys(implemented));
  if (names.has("GET")) names.add("HEAD");
  names.add("OPTIONS");
  const allow = HTTP_METHODS.filter((method) => names.has(method)).join(", ");

  const notAllowed: Answer = (request) =>
    observed(request, async (requestId) => problemResponse(methodNotAllowed(request.method, allow), requestId));
  const options: Answer = (request) => {
    // A method Next.js cannot route (TRACE…), sent on as OPTIONS by request-guard.ts.
    const unsupported = request.headers.get(UNSUPPORTED_METHOD_HEADER);
    if (unsupported) {
      return observed(request, async (requestId) => problemResponse(methodNotAllowed(unsupported, allow), requestId), { method: unsupported });
    }
    return observed(request, async () => new Response(null, { status: 204, headers: preflightHeaders(request, allow) }), { cors: false });
  };

  const answers: Partial<Record<HttpMethod, Answer>> = {};
  for (const method of HTTP_METHODS) {
    if (method in implemented || (method === "HEAD" && "GET" in implemented)) continue;
    answers[method] = Object.assign(method === "OPTIONS" ? options : notAllowed, { [REFUSAL]: true });
  }
  return answers as Record<Missing<T>, Answer>;
}
