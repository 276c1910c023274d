import { runNextAuth } from "@/lib/auth/next-auth-route";
import { contentSecurityPolicy, newNonce } from "@/lib/csp";
import { env } from "@/lib/env";
import { jsonDepthExceeds, readBoundedBody } from "./body";
import { AppError } from "./errors";
import { withHeaders } from "./handler";
import { appOrigin, assertSameOrigin } from "./origin";

/**
 * next-auth's endpoints (/api/auth/*) with the API's own guards in front, since next-auth has none
 * of them: its POSTs come from the app's origin (its CSRF token is a double-submit cookie, which a
 * page on another port of the same host can overwrite); a body is read to MAX_AUTH_BODY_BYTES and
 * no further, then handed on in a rebuilt request; input next-auth answers with a 500 (a
 * callbackUrl that is no URL, a JSON body that does not parse) is a 400 here; its HTML pages get
 * the app's Content-Security-Policy, which the proxy adds to pages only.
 */

const CALLBACK_URL_COOKIES = ["next-auth.callback-url", "__Secure-next-auth.callback-url"];

/** next-auth's own rule (it answers 500 otherwise): an http(s) URL, or a path on this site. */
function isHttpUrl(value: string, base: string): boolean {
  try {
    return /^https?:$/.test(new URL(value, value.startsWith("/") ? base : undefined).protocol);
  } catch {
    return false;
  }
}

function badCallbackUrl(headers?: Record<string, string>): AppError {
  return new AppError("bad_request", "callbackUrl must be a path on this site or an http(s) URL.", { headers });
}

function readCookie(request: Request, name: string): string | null {
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) {
      const value = pair.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/** The callbackUrl next-auth would read from the query, the body or its cookie must be one it accepts. */
function assertCallbackUrls(request: Request, body: Buffer | null): void {
  const base = appOrigin(request) ?? "http://localhost";
  const fromQuery = new URL(request.url).searchParams.get("callbackUrl");
  if (fromQuery !== null && !isHttpUrl(fromQuery, base)) throw badCallbackUrl();
  const contentType = request.headers.get("content-type") ?? "";
  if (body && body.length > 0) {
    const text = body.toString("utf8");
    let fields: unknown = null;
    if (contentType.includes("application/x-www-form-urlencoded")) fields = Object.fromEntries(new URLSearchParams(text));
    else if (contentType.includes("application/json")) {
      try {
        fields = jsonDepthExceeds(text, env.MAX_JSON_DEPTH) ? undefined : JSON.parse(text);
      } catch {
        fields = undefined;
      }
      if (fields === undefined) throw new AppError("invalid_json", "The request body is not valid JSON.");
    }
    const fromBody = fields && typeof fields === "object" && "callbackUrl" in fields ? fields.callbackUrl : undefined;
    if (fromBody !== undefined && (typeof fromBody !== "string" || !isHttpUrl(fromBody, base))) throw badCallbackUrl();
  }
  for (const name of CALLBACK_URL_COOKIES) {
    const fromCookie = readCookie(request, name);
    // A bad cookie would fail every next-auth request until it expires: clear it too.
    if (fromCookie !== null && !isHttpUrl(fromCookie, base)) {
      throw badCallbackUrl({ "set-cookie": `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${name.startsWith("__Secure-") ? "; Secure" : ""}` });
    }
  }
}

type Context = { params: Promise<{ nextauth?: string[] }> };

export async function handleAuthRequest(request: Request, context: Context): Promise<Response> {
  assertSameOrigin(request);
  const body = request.method === "POST" ? await readBoundedBody(request, env.MAX_AUTH_BODY_BYTES) : null;
  assertCallbackUrls(request, body);
  const response = await runNextAuth(request, body, context);
  if (!(response.headers.get("content-type") ?? "").startsWith("text/html")) return response;
  return withHeaders(response, { "content-security-policy": contentSecurityPolicy({ nonce: newNonce(), dev: env.NODE_ENV === "development" }) });
}
