import type { Redis } from "ioredis";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { getRedis } from "@/lib/redis";

/**
 * Rate limiting with GCRA (the generic cell rate algorithm): one timestamp per key — the
 * "theoretical arrival time" — gives a token bucket's behaviour (bursts up to the limit, steady
 * refill) without a background refill. In-process by default; in Redis when REDIS_URL is set, so
 * every instance shares one limit.
 */

export type Limit = { limit: number; periodMs: number };

export type RateDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds to wait before retrying (only when not allowed). */
  retryAfterSeconds: number;
};

export interface RateLimitStore {
  take(key: string, limit: Limit): Promise<RateDecision>;
}

/** The pure GCRA step, shared by the in-memory store and (as Lua) the Redis store. */
export function gcra(storedTat: number | undefined, now: number, { limit, periodMs }: Limit) {
  const interval = periodMs / limit;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + interval;
  const allowAt = newTat - periodMs;
  if (now < allowAt) {
    const remaining = 0;
    return {
      tat,
      decision: { allowed: false, limit, remaining, resetSeconds: Math.ceil((tat - now) / 1000), retryAfterSeconds: Math.ceil((allowAt - now) / 1000) },
    };
  }
  const remaining = Math.floor((periodMs - (newTat - now)) / interval);
  return {
    tat: newTat,
    decision: { allowed: true, limit, remaining, resetSeconds: Math.ceil((newTat - now) / 1000), retryAfterSeconds: 0 },
  };
}

export class MemoryRateLimitStore implements RateLimitStore {
  private tats = new Map<string, number>();
  private lastSweep = Date.now();

  async take(key: string, limit: Limit): Promise<RateDecision> {
    const now = Date.now();
    const { tat, decision } = gcra(this.tats.get(key), now, limit);
    this.tats.set(key, tat);
    if (now - this.lastSweep > 60_000) this.sweep(now);
    return decision;
  }

  private sweep(now: number) {
    this.lastSweep = now;
    for (const [key, tat] of this.tats) if (tat < now) this.tats.delete(key);
  }
}

// KEYS[1] = bucket; ARGV = limit, periodMs. Uses Redis's clock so instances agree on "now".
const GCRA_LUA = `
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = period / limit
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local new_tat = tat + interval
local allow_at = new_tat - period
if now < allow_at then
  return {0, 0, math.ceil((tat - now) / 1000), math.ceil((allow_at - now) / 1000)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
local remaining = math.floor((period - (new_tat - now)) / interval)
return {1, remaining, math.ceil((new_tat - now) / 1000), 0}
`;

export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "bgpt:rl:",
  ) {}

  async take(key: string, limit: Limit): Promise<RateDecision> {
    const [allowed, remaining, resetSeconds, retryAfterSeconds] = (await this.redis.eval(
      GCRA_LUA,
      1,
      `${this.prefix}${key}`,
      limit.limit,
      limit.periodMs,
    )) as [number, number, number, number];
    return { allowed: allowed === 1, limit: limit.limit, remaining, resetSeconds, retryAfterSeconds };
  }
}

let store: RateLimitStore | undefined;

async function getStore(): Promise<RateLimitStore> {
  if (store) return store;
  const redis = await getRedis();
  store = redis ? new RedisRateLimitStore(redis) : new MemoryRateLimitStore();
  return store;
}

/** For tests: use this store instead of the configured one. */
export function setRateLimitStore(next: RateLimitStore | undefined): void {
  store = next;
}

export type RateLimitClass = "default" | "chat";

function limitsFor(kind: RateLimitClass): Limit {
  return kind === "chat"
    ? { limit: env.RATE_LIMIT_CHAT_PER_MINUTE, periodMs: 60_000 }
    : { limit: env.RATE_LIMIT_PER_MINUTE, periodMs: 60_000 };
}

/**
 * Charges one request to the user's bucket and, for API-key calls, to the key's bucket too; the
 * tighter of the two decides and is what the headers report.
 */
export async function checkRateLimit(input: { userId: string; apiKeyId: string | null; kind: RateLimitClass }): Promise<RateDecision> {
  const limit = limitsFor(input.kind);
  const keys = [`user:${input.userId}:${input.kind}`, ...(input.apiKeyId ? [`key:${input.apiKeyId}:${input.kind}`] : [])];
  return takeRateLimits(
    keys.map((key) => ({ key, limit })),
    input.kind,
  );
}

export type RateLimitBucket = { key: string; limit: Limit };

/**
 * Charges one request to every bucket and returns the deciding one.
 * `kind` labels the rejection metric (default, chat, sign_in, sign_up).
 */
export async function takeRateLimits(buckets: RateLimitBucket[], kind: string): Promise<RateDecision> {
  const s = await getStore();
  let decisions: RateDecision[];
  try {
    decisions = await Promise.all(buckets.map((bucket) => s.take(bucket.key, bucket.limit)));
  } catch (error) {
    // A limiter outage must not take the API down with it: let the request through, loudly.
    log.error({ err: error }, "rate limiter unavailable; allowing request");
    const limit = buckets[0]?.limit.limit ?? 0;
    return { allowed: true, limit, remaining: limit, resetSeconds: 0, retryAfterSeconds: 0 };
  }
  // A refusal beats an allowance; among refusals the longest wait, among allowances the fewest left.
  const decision = decisions.reduce((tightest, d) => {
    if (d.allowed !== tightest.allowed) return d.allowed ? tightest : d;
    if (!d.allowed) return d.retryAfterSeconds > tightest.retryAfterSeconds ? d : tightest;
    return d.remaining < tightest.remaining ? d : tightest;
  });
  if (!decision.allowed) metrics.rateLimitRejections.inc({ kind });
  return decision;
}

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
  if (!decision.allowed) headers["retry-after"] = String(Math.max(1, decision.retryAfterSeconds));
  return headers;
}
