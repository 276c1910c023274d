import http from "node:http";
import { AppError } from "./errors";
import { observeRequest } from "./observe";
import { requestIdFrom } from "./request-id";

/**
 * Requests Next.js fails on before any of our code runs, answered at Node's HTTP server instead:
 *
 * - a method outside Next's seven (TRACE, TRACK, PROPFIND…): building its Request throws (fetch
 *   forbids TRACE), which Next turns into a 500 with a stack trace on stderr. Under /api the
 *   request goes on as OPTIONS carrying the real method in UNSUPPORTED_METHOD_HEADER, so the
 *   route's own OPTIONS answers 405 with its `Allow` (methods.ts); a page answers 405 here.
 * - a path that is not valid percent-encoding (`/c/%ff`): decoding a dynamic segment throws, and
 *   Next answers 500. Here it is 400.
 *
 * Installed once at start-up (instrumentation.ts), ahead of Next's own request listener.
 */

/** The methods a Next.js route can export. */
export const HTTP_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Carries the method a request really had to the route's OPTIONS answer (see methods.ts). */
export const UNSUPPORTED_METHOD_HEADER = "x-bot-gpt-unsupported-method";

const ROUTABLE = new Set<string>(HTTP_METHODS);
const PAGE_METHODS = "GET, HEAD";

function validPercentEncoding(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, error: AppError): void {
  const startedAt = performance.now();
  const requestId = requestIdFrom(req.headers["x-request-id"]?.toString());
  res.writeHead(error.status, {
    ...error.headers,
    "content-type": "application/problem+json",
    "x-request-id": requestId,
    // The request's body, if any, is never read.
    connection: "close",
  });
  res.end(JSON.stringify(error.toProblem(requestId)));
  // One label for every refused request: these paths are whatever a client made up.
  observeRequest({ requestId, method: req.method ?? "", pathname: "(refused)", status: error.status, startedAt, code: error.code });
}

/** true when the request has been answered here. */
export function guardRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  // Only this guard may say a method was unsupported.
  delete req.headers[UNSUPPORTED_METHOD_HEADER];
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (!validPercentEncoding(path)) {
    refuse(req, res, new AppError("bad_request", "The request path is not valid percent-encoded UTF-8."));
    return true;
  }
  const method = req.method ?? "";
  if (ROUTABLE.has(method)) return false;
  if (path.startsWith("/api/")) {
    req.headers[UNSUPPORTED_METHOD_HEADER] = method;
    req.method = "OPTIONS";
    return false;
  }
  refuse(req, res, new AppError("method_not_allowed", `${method} is not supported; pages allow ${PAGE_METHODS}.`, { headers: { allow: PAGE_METHODS } }));
  return true;
}

let installed = false;

export function installRequestGuard(): void {
  if (installed) return;
  installed = true;
  // Next.js creates its server itself (`next start`, the standalone server.js) and offers no hook
  // ahead of its request handling, so the guard sits in front of every server's `request` event.
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function guardedEmit(this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request" && guardRequest(args[0] as http.IncomingMessage, args[1] as http.ServerResponse)) return true;
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  };
}
