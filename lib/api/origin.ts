import { env } from "@/lib/env";
import { AppError } from "./errors";

/**
 * Cross-site request forgery: a browser attaches the session cookie to a form post or a
 * CORS-simple fetch from any page of the same site (another port of the same host included), so a
 * cookie alone does not show that the app itself sent a request. Browsers also say where a request
 * comes from (`Origin`, `Sec-Fetch-Site`), and a page cannot forge either; a state-changing request
 * that carries them must come from the app's own origin.
 */

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function firstValue(header: string | null): string | null {
  const value = header?.split(",")[0]?.trim();
  return value ? value : null;
}

/**
 * The origin the app is served from. NEXTAUTH_URL when set (the operator's word; next-auth builds
 * its links from it too); otherwise the one the browser addressed: Host, or X-Forwarded-Host and
 * -Proto behind a proxy. A page cannot set Host, and X-Forwarded-* only after a CORS preflight that
 * no unlisted origin passes, so a forged request cannot make its own origin look like the app's.
 * (Next.js builds `request.url` from the address it listens on, not from Host, so it is a last resort.)
 */
export function appOrigin(request: Request, configured = env.NEXTAUTH_URL): string | null {
  if (configured) return new URL(configured).origin;
  const url = new URL(request.url);
  const host = firstValue(request.headers.get("x-forwarded-host")) ?? request.headers.get("host") ?? url.host;
  const proto = firstValue(request.headers.get("x-forwarded-proto")) ?? url.protocol.slice(0, -1);
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return null;
  }
}

function sameOrigin(origin: string, expected: string | null): boolean {
  try {
    return expected !== null && new URL(origin).origin === expected;
  } catch {
    return false; // "null" (a sandboxed frame, a data: URL) or garbage
  }
}

/**
 * Refuses a state-changing request that a browser says came from elsewhere: `Sec-Fetch-Site` other
 * than same-origin (or none: the user's own navigation), or an `Origin` that is not the app's.
 * A request with neither header is not from a modern browser, so it cannot be a forged one.
 */
export function assertSameOrigin(request: Request, configured = env.NEXTAUTH_URL): void {
  if (!STATE_CHANGING.has(request.method)) return;
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  const expected = appOrigin(request, configured);
  const crossSite = site !== null && site !== "same-origin" && site !== "none";
  if (crossSite || (origin !== null && !sameOrigin(origin, expected))) {
    throw new AppError(
      "cross_origin_request",
      `This ${request.method} came from ${origin ?? `a ${site} page`}, not from ${expected ?? "this app"}. Without an API key, only the app's own pages may change data; integrators send \`Authorization: Bearer bgpt_…\`.`,
    );
  }
}
