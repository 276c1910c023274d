import { decode } from "next-auth/jwt";
import { AppError } from "@/lib/api/errors";
import { createSession, getSessionAccount as readSessionAccount } from "@/lib/db/queries/sessions";
import type { PublicUser, SessionUser, UserAccount } from "@/lib/db/queries/users";
import { getAuthSecret } from "./secret";

/** The session cookie's lifetime; the session row ends at the same time however often it is renewed. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/** Starts a session for a user who just signed in: its id goes into the cookie's token as `sid`. */
export function startSession(userId: string): Promise<string> {
  return createSession({ userId, maxAgeSeconds: SESSION_MAX_AGE_SECONDS });
}

/**
 * The account a decoded token names when its session still stands — or, whatever became of the
 * session, when the account is disabled (so the caller can say so rather than "signed out").
 */
export async function liveSessionAccount(token: { sub?: unknown; sid?: unknown } | null): Promise<UserAccount | null> {
  // Tokens from before sessions were recorded carry no sid: they sign nobody in.
  if (typeof token?.sub !== "string" || typeof token.sid !== "string") return null;
  const found = await readSessionAccount({ userId: token.sub, sessionId: token.sid });
  return found && (found.live || found.account.disabledAt) ? found.account : null;
}

const COOKIE_NAMES = ["__Secure-next-auth.session-token", "next-auth.session-token"];

export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of (header ?? "").split(";")) {
    const index = pair.indexOf("=");
    if (index <= 0) continue;
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      cookies.set(name, value);
    }
  }
  return cookies;
}

/** next-auth splits large tokens into name.0, name.1, …; join them back. */
function readSessionToken(cookies: Map<string, string>): string | undefined {
  for (const name of COOKIE_NAMES) {
    const whole = cookies.get(name);
    if (whole) return whole;
    const chunks: string[] = [];
    for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`) ?? "");
    if (chunks.length > 0) return chunks.join("");
  }
  return undefined;
}

/** The signed-in user behind the request's session cookie (with its budget limits), or null; a disabled account is a 403. */
export async function getSessionUser(request: Request): Promise<SessionUser | null> {
  const account = await getSessionAccount(request.headers.get("cookie"));
  if (account?.disabledAt) throw new AppError("account_disabled", "This account has been disabled by an administrator.");
  if (!account) return null;
  const { id, email, name, createdAt, budgetTokensPerDay, budgetUsdPerMonth } = account;
  return { id, email, name, createdAt, budgetTokensPerDay, budgetUsdPerMonth };
}

/** Same, from a raw Cookie header (server components read it through next/headers); a disabled account is signed out. */
export async function getUserFromCookieHeader(cookieHeader: string | null): Promise<PublicUser | null> {
  const account = await getSessionAccount(cookieHeader);
  return account && !account.disabledAt ? publicUser(account) : null;
}

const publicUser = ({ id, email, name, createdAt }: UserAccount): PublicUser => ({ id, email, name, createdAt });

async function getSessionAccount(cookieHeader: string | null): Promise<UserAccount | null> {
  const token = readSessionToken(parseCookies(cookieHeader));
  if (!token) return null;
  let payload: Awaited<ReturnType<typeof decode>>;
  try {
    payload = await decode({ token, secret: await getAuthSecret() });
  } catch {
    return null;
  }
  // One read per request, of the user joined to the session: a signed-out, revoked or deleted
  // account's cookie stops working at once, and a disabled one is known as such.
  return liveSessionAccount(payload);
}
