import { log, userHash } from "@/lib/log";
import { methodLabel, metrics } from "@/lib/metrics";
import { routeLabel } from "./route-label";

/** One finished API request, as its wrapper saw it (duration is to the response headers). */
export type RequestRecord = {
  requestId: string;
  method: string;
  pathname: string;
  status: number;
  startedAt: number;
  userId?: string | null;
  apiKeyId?: string | null;
  /** The problem code of an error response. */
  code?: string | null;
};

// Probes run every few seconds; at info they would drown the lines people read.
const QUIET_ROUTES = new Set(["/api/health", "/api/ready"]);

/** The `request` log line and the request-duration histogram, from one record. */
export function observeRequest(record: RequestRecord): void {
  // Route templates and known methods only: a scanner must not mint a new series per path or verb it tries.
  const route = routeLabel(record.pathname);
  const durationMs = performance.now() - record.startedAt;
  metrics.httpRequestDuration.observe({ method: methodLabel(record.method), route, status: String(record.status) }, durationMs / 1000);
  const line = {
    request_id: record.requestId,
    method: record.method,
    route,
    status: record.status,
    duration_ms: Math.round(durationMs),
    user: userHash(record.userId),
    api_key_id: record.apiKeyId ?? null,
    ...(record.code ? { code: record.code } : {}),
  };
  if (QUIET_ROUTES.has(route)) log.debug(line, "request");
  else log.info(line, "request");
}

/** The `code` of a problem+json response (also a replayed one), read from a copy of its body. */
export async function problemCodeOf(response: Response): Promise<string | null> {
  if (response.status < 400 || !(response.headers.get("content-type") ?? "").includes("problem+json")) return null;
  try {
    const body: unknown = await response.clone().json();
    return body && typeof body === "object" && "code" in body && typeof body.code === "string" ? body.code : null;
  } catch {
    return null;
  }
}
