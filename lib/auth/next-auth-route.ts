import type { NextApiRequest, NextApiResponse } from "next";
import NextAuth from "next-auth";
import { AppError } from "@/lib/api/errors";
import { clientAddress } from "./client-address";
import { getAuthOptions, type SignInAttempt } from "./options";
import { parseCookies } from "./session";
import { tooManyAttempts } from "./throttle";

/**
 * next-auth under /api/auth, driven from the Web Request a route handler gets. next-auth's App
 * Router entry reads the request again through next/headers (so it only runs inside Next's request
 * scope); its API-route entry takes the request as given. Using that one, the request the wrappers
 * checked is the request next-auth sees, and its answer comes back here to be turned into a 429
 * when the sign-in throttle refused the attempt.
 */

type Context = { params: Promise<{ nextauth?: string[] }> };

/** What next-auth's API-route entry writes: a status, headers (Set-Cookie as a list), a body. */
class CollectedResponse {
  private statusCode = 200;
  private readonly headers = new Map<string, string | string[]>();
  private body: string | null = null;

  status(code: number) {
    this.statusCode = code;
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  setHeader(name: string, value: string | string[]) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  json(value: unknown) {
    this.headers.set("content-type", "application/json");
    this.body = JSON.stringify(value);
  }
  send(value: unknown) {
    if (typeof value === "string") this.body = value;
    else if (value !== undefined && value !== null) this.json(value);
  }
  end() {}

  /** Where next-auth sent the browser: its Location, or the `url` of a JSON caller's answer. */
  redirectUrl(): string | null {
    const location = this.headers.get("location");
    if (typeof location === "string") return location;
    try {
      const parsed: unknown = JSON.parse(this.body ?? "null");
      return parsed && typeof parsed === "object" && "url" in parsed && typeof parsed.url === "string" ? parsed.url : null;
    } catch {
      return null;
    }
  }

  toResponse(): Response {
    const headers = new Headers();
    for (const [name, value] of this.headers) for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    return new Response(this.body, { status: this.statusCode, headers });
  }
}

/** The body next-auth expects: form fields (or JSON) as a plain object. */
function parseBody(request: Request, body: Buffer | null): Record<string, unknown> | undefined {
  if (request.method !== "POST") return undefined;
  const type = request.headers.get("content-type") ?? "";
  const text = body?.toString("utf8") ?? "";
  if (/application\/json/i.test(type)) {
    try {
      const value: unknown = text.trim() === "" ? {} : JSON.parse(text);
      return value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
    } catch {
      throw new AppError("invalid_json", "The request body is not valid JSON.");
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * Runs next-auth on a request whose body the caller has already read (within its limit), and
 * turns a sign-in the throttle refused into a 429.
 */
export async function runNextAuth(request: Request, rawBody: Buffer | null, context: Context): Promise<Response> {
  const body = parseBody(request, rawBody);
  const url = new URL(request.url);
  const req = {
    method: request.method,
    headers: Object.fromEntries(request.headers),
    query: { ...Object.fromEntries(url.searchParams), nextauth: (await context.params).nextauth ?? [] },
    cookies: Object.fromEntries(parseCookies(request.headers.get("cookie"))),
    body,
  } satisfies Partial<NextApiRequest>;
  const res = new CollectedResponse();
  const attempt: SignInAttempt = { address: clientAddress(request), refused: null };
  // The API-route entry needs only what is built above; the casts adapt the types, not the data.
  await NextAuth(req as unknown as NextApiRequest, res as unknown as NextApiResponse, await getAuthOptions(attempt));
  if (attempt.refused) {
    // A 429 with Retry-After instead of next-auth's 401; `url` keeps next-auth's client working
    // (it reads the error from there), so the sign-in form can say why.
    throw tooManyAttempts(attempt.refused, { url: res.redirectUrl() });
  }
  return res.toResponse();
}
