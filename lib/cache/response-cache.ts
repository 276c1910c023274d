import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { env, type Env } from "@/lib/env";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { getRedis } from "@/lib/redis";

/**
 * Exact-match response cache: a repeat of the same model, assembled request and sampling settings
 * is answered from the cache instead of the provider. Only deterministic requests are cached by
 * default (RESPONSE_CACHE). In-process LRU, or Redis when REDIS_URL is set. A cache failure is a
 * miss, never an error: the cache must not break a chat turn.
 */

export type CacheableRequest = {
  /** Whose request: entries are never shared between users (a hit would reveal what another asked). */
  owner: string;
  model: string;
  system: string | null;
  messages: Array<{ role: string; content: string }>;
  settings: { temperature?: number; topP?: number; maxOutputTokens?: number; stopSequences?: string[] };
};

const cachedReplySchema = z.object({
  text: z.string(),
  finishReason: z.string().nullable(),
  model: z.string(),
  provider: z.string(),
  createdAt: z.string(),
});

export type CachedReply = z.infer<typeof cachedReplySchema>;

export interface ResponseCacheStore {
  get(key: string): Promise<CachedReply | null>;
  set(key: string, value: CachedReply, ttlSeconds: number): Promise<void>;
}

// Bump when the serialization below or the meaning of a cached reply changes.
const KEY_PREFIX = "botgpt:rc:v2:";

/**
 * sha256 over a JSON array in fixed field order, so no two different requests serialize alike.
 * Unset settings become null, and no stop sequences is the same as an empty list.
 */
export function responseCacheKey(req: CacheableRequest): string {
  const { temperature, topP, maxOutputTokens, stopSequences } = req.settings;
  const canonical = JSON.stringify([
    req.owner,
    req.model,
    req.system,
    req.messages.map((m) => [m.role, m.content]),
    [temperature ?? null, topP ?? null, maxOutputTokens ?? null, stopSequences?.length ? stopSequences : null],
  ]);
  return KEY_PREFIX + createHash("sha256").update(canonical).digest("hex");
}

export function isCacheable(settings: CacheableRequest["settings"], mode: Env["RESPONSE_CACHE"] = env.RESPONSE_CACHE): boolean {
  if (mode === "off") return false;
  if (mode === "always") return true;
  return settings.temperature === 0;
}

/** Replies larger than this are not kept in process memory. */
export const MAX_CACHED_TEXT_BYTES = 1024 * 1024;

type MemoryEntry = { value: CachedReply; expiresAt: number };

/** LRU over a Map: insertion order is recency order, so the first key is the least recent. */
export class MemoryResponseCache implements ResponseCacheStore {
  private entries = new Map<string, MemoryEntry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = options.maxEntries ?? env.RESPONSE_CACHE_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<CachedReply | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return null;
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: CachedReply, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0 || Buffer.byteLength(value.text, "utf8") > MAX_CACHED_TEXT_BYTES) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}

export class RedisResponseCache implements ResponseCacheStore {
  private failing = false;

  /**
   * timeoutMs bounds each command: with Redis down, ioredis queues and retries a command for
   * seconds before failing it, and a chat turn should not wait that long for a cache.
   */
  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs = 500,
  ) {}

  async get(key: string): Promise<CachedReply | null> {
    let raw: string | null;
    try {
      raw = await this.withTimeout(this.redis.get(key));
      this.failing = false;
    } catch (error) {
      this.logFailure("get", error);
      return null;
    }
    if (raw === null) return null;
    try {
      const parsed = cachedReplySchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async set(key: string, value: CachedReply, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    try {
      await this.withTimeout(this.redis.set(key, JSON.stringify(value), "EX", Math.ceil(ttlSeconds)));
      this.failing = false;
    } catch (error) {
      this.logFailure("set", error);
    }
  }

  private async withTimeout<T>(command: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([command, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // One line per outage, not one per chat turn.
  private logFailure(op: string, error: unknown) {
    if (this.failing) return;
    this.failing = true;
    log.error({ op, err: error }, "response cache failed; treating as a miss");
  }
}

/** A store whose lookups count as hits or misses (botgpt_response_cache_hits_total / _misses_total). */
export function countLookups(inner: ResponseCacheStore): ResponseCacheStore {
  return {
    async get(key) {
      const value = await inner.get(key);
      (value ? metrics.cacheHits : metrics.cacheMisses).inc();
      return value;
    },
    set: (key, value, ttlSeconds) => inner.set(key, value, ttlSeconds),
  };
}

let store: Promise<ResponseCacheStore> | undefined;

/** The process's response cache: every lookup through it is counted. */
export function getResponseCache(): Promise<ResponseCacheStore> {
  store ??= getRedis()
    .then(
      (redis) => (redis ? new RedisResponseCache(redis) : new MemoryResponseCache()),
      (error: unknown) => {
        log.error({ err: error }, "redis unavailable; response cache in memory");
        return new MemoryResponseCache();
      },
    )
    .then(countLookups);
  return store;
}
