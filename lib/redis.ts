import type { Redis } from "ioredis";
import { env } from "@/lib/env";

/**
 * One Redis connection per process, shared by the rate limiter and the response cache, created on
 * first use so a deployment without REDIS_URL never loads ioredis at all.
 */

let client: Promise<Redis | null> | undefined;

async function connect(url: string): Promise<Redis> {
  const { default: IORedis } = await import("ioredis");
  const redis = new IORedis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  // ioredis emits an error on every failed reconnect; log the first of each outage, not each retry.
  let failing = false;
  redis.on("error", (error: Error) => {
    if (failing) return;
    failing = true;
    console.error("redis error", error.message);
  });
  redis.on("ready", () => {
    failing = false;
  });
  return redis;
}

/** The shared client, or null when REDIS_URL is unset. */
export function getRedis(): Promise<Redis | null> {
  client ??= env.REDIS_URL ? connect(env.REDIS_URL) : Promise.resolve(null);
  return client;
}

/** Closes the shared client (shutdown, tests); the next getRedis() opens a new one. */
export async function closeRedis(): Promise<void> {
  const pending = client;
  client = undefined;
  const redis = await pending;
  if (!redis) return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
