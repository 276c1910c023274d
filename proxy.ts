import { NextResponse, type NextRequest } from "next/server";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Every API response carries X-Request-Id, including routes outside the v1 wrappers (health,
 * next-auth). The id is also put on the request so handlers log and return the same one.
 */
export function proxy(request: NextRequest) {
  const incoming = request.headers.get("x-request-id");
  const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const headers = new Headers(request.headers);
  headers.set("x-request-id", requestId);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("x-request-id", requestId);
  return response;
}

// Uploads skip the proxy: it buffers request bodies up to 10 MB and would cut larger files short.
// The documents route sets X-Request-Id itself, like every /api/v1 route.
export const config = { matcher: ["/api/((?!v1/documents/?$).*)"] };
