import { env } from "@/lib/env";

/**
 * CORS for browser integrators that call /api/v1 with an API key from a page of their own:
 * origins listed in CORS_ORIGINS get preflight answers and may read responses. Never with
 * credentials — cookies stay same-origin (see origin.ts) — and unlisted origins get no CORS
 * headers at all, so the browser keeps their scripts from reading anything.
 */

const EXPOSED_HEADERS = [
  "X-Request-Id",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "Retry-After",
  "Idempotent-Replayed",
  "Location",
].join(", ");

// What an integrator sends: the key, JSON or multipart, replay and correlation ids, stream resumes.
const ALLOWED_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "Last-Event-ID", "Accept"].join(", ");

const PREFLIGHT_MAX_AGE_SECONDS = "600";

function isPublicApi(request: Request): boolean {
  return new URL(request.url).pathname.startsWith("/api/v1/");
}

/** The request's Origin when CORS_ORIGINS lists it and the path is the public API. */
function listedOrigin(request: Request): string | null {
  const origin = request.headers.get("origin");
  if (origin === null || !isPublicApi(request)) return null;
  return env.CORS_ORIGINS.includes(origin) ? origin : null;
}

/** Headers for an actual (non-preflight) response. */
export function corsHeaders(request: Request): Record<string, string> {
  if (env.CORS_ORIGINS.length === 0 || !isPublicApi(request)) return {};
  const origin = listedOrigin(request);
  // Vary either way: a cache must not hand one origin's answer to another.
  if (!origin) return { vary: "Origin" };
  return { vary: "Origin", "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSED_HEADERS };
}

/** OPTIONS: `Allow`, and for a listed origin the preflight's answer. */
export function preflightHeaders(request: Request, allow: string): Record<string, string> {
  const origin = listedOrigin(request);
  if (!origin || request.headers.get("access-control-request-method") === null) return { allow, ...corsHeaders(request) };
  return {
    allow,
    vary: "Origin",
    "access-control-allow-origin": origin,
    "access-control-allow-methods": allow,
    "access-control-allow-headers": ALLOWED_REQUEST_HEADERS,
    "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
  };
}
