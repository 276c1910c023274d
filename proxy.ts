import { NextResponse, type NextRequest } from "next/server";
import { contentSecurityPolicy, newNonce } from "@/lib/csp";
import { env } from "@/lib/env";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Every API response carries X-Request-Id, including routes outside the v1 wrappers (health,
 * next-auth). The id is also put on the request so handlers log and return the same one.
 *
 * Pages get a Content-Security-Policy with a fresh script nonce. Next reads the nonce from the
 * request's CSP header and puts it on its own scripts, which is why every page renders per request.
 * API responses (JSON, streams, documents opened in the browser's PDF viewer) get none.
 */
export function proxy(request: NextRequest) {
  const incoming = request.headers.get("x-request-id");
  const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const headers = new Headers(request.headers);
  headers.set("x-request-id", requestId);
  const policy = request.nextUrl.pathname.startsWith("/api/")
    ? null
    : contentSecurityPolicy({ nonce: newNonce(), dev: env.NODE_ENV === "development" });
  if (policy) headers.set("content-security-policy", policy);

  const response = NextResponse.next({ request: { headers } });
  response.headers.set("x-request-id", requestId);
  if (policy) response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  matcher: [
    // Uploads skip the proxy: it buffers request bodies up to 10 MB and would cut larger files short.
    // The documents route sets X-Request-Id itself, like every /api/v1 route.
    "/api/((?!v1/documents/?$).*)",
    // Pages; not static files, nor prefetches (no HTML, so no scripts to allow).
    {
      source: "/((?!api|_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
