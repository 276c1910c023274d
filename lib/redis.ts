import type { Redis } from "ioredis";
import { env } from "@/lib/env";
import { log } from "@/lib/log";

/**
 * One Redis connection per process, shared by the rate limiter and the response cache, created on
 * first use so a deployment without REDIS_URL never loads ioredis at all.
 */

// On globalThis: the shutdown hook (loaded from instrumentation) must close the client the routes opened.
const holder = globalThis as typeof globalThis & { __botGptRedis?: Promise<Redis | null> };

async function connect(url: string): Promise<Redis> {
  const { default: IORedis } = await import("ioredis");
  const redis = new IORedis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  // ioredis emits an error on every failed reconnect; log the first of each outage, not each retry.
  let failing = false;
  redis.on("error", (error: Error) => {
    if (failing) return;
    failing = true;
    log.error({ err: error }, "redis error");
  });
  redis.on("ready", () => {
    failing = false;
  });
  return redis;
}

/** The shared client, or null when REDIS_URL is unset. */
export function getRedis(): Promise<Redis | null> {
  holder.__botGptRedis ??= env.REDIS_URL ? connect(env.REDIS_URL) : Promise.resolve(null);
  return holder.__botGptRedis;
}

/** Closes the shared client (shutdown, tests); the next getRedis() opens a new one. */
export async function closeRedis(): Promise<void> {
  const pending = holder.__botGptRedis;
  holder.__botGptRedis = undefined;
  const redis = await pending;
  if (!redis) return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** For readiness: "ok" when Redis answers PING within `timeoutMs`, "not_configured" without REDIS_URL; throws otherwise. */
export async function pingRedis(timeoutMs = 1_000): Promise<"ok" | "not_configured"> {
  const redis = await getRedis();
  if (!redis) return "not_configured";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no PING reply within ${timeoutMs} ms`)), timeoutMs)));
  try {
    await Promise.race([redis.ping(), timeout]);
    return "ok";
  } finally {
    clearTimeout(timer);
  }
}
