import { createHash } from "node:crypto";
import { AppError } from "@/lib/api/errors";
import { takeRateLimits, type RateDecision } from "@/lib/api/rate-limit";
import { normalizeEmail } from "@/lib/db/queries/users";
import { env } from "@/lib/env";

/**
 * Brute-force and sign-up throttles: GCRA buckets in the shared rate-limit store (Redis when
 * REDIS_URL is set, so every instance counts the same attempts). Every attempt is charged, before
 * any password is checked, whether or not the email has an account — the answer is the same
 * either way, so the throttle reveals nothing about which emails are registered.
 */

const FIFTEEN_MINUTES_MS = 15 * 60_000;
const HOUR_MS = 60 * 60_000;

// Handlers called outside the server (no X-Forwarded-For at all) share one bucket.
const addressKey = (address: string | null) => address ?? "unknown";

// The limiter's store keeps a digest, not people's email addresses.
const accountKey = (email: string) => createHash("sha256").update(normalizeEmail(email)).digest("base64url").slice(0, 22);

/** Charges a sign-in attempt to the email's bucket and to the client address's. */
export function throttleSignIn(input: { email: string; address: string | null }): Promise<RateDecision> {
  return takeRateLimits(
    [
      { key: `sign-in:account:${accountKey(input.email)}`, limit: { limit: env.RATE_LIMIT_SIGN_IN_PER_ACCOUNT, periodMs: FIFTEEN_MINUTES_MS } },
      { key: `sign-in:address:${addressKey(input.address)}`, limit: { limit: env.RATE_LIMIT_SIGN_IN_PER_ADDRESS, periodMs: FIFTEEN_MINUTES_MS } },
    ],
    "sign_in",
  );
}

/** Charges a sign-up to the client address's bucket. */
export function throttleSignUp(input: { address: string | null }): Promise<RateDecision> {
  return takeRateLimits(
    [{ key: `sign-up:address:${addressKey(input.address)}`, limit: { limit: env.RATE_LIMIT_SIGN_UP_PER_ADDRESS, periodMs: HOUR_MS } }],
    "sign_up",
  );
}

/** The 429 for a refused attempt; only Retry-After, since the buckets' fill is nobody's business. */
export function tooManyAttempts(decision: RateDecision, extensions?: Record<string, unknown>): AppError {
  const seconds = Math.max(1, decision.retryAfterSeconds);
  return new AppError("rate_limited", `Too many attempts; retry in ${seconds} s.`, { headers: { "Retry-After": String(seconds) }, extensions });
}
