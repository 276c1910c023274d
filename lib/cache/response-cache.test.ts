import { randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { log as logger } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import {
  countLookups,
  isCacheable,
  MAX_CACHED_TEXT_BYTES,
  MemoryResponseCache,
  RedisResponseCache,
  responseCacheKey,
  type CacheableRequest,
  type CachedReply,
} from "./response-cache";

const base: CacheableRequest = {
  owner: "user-1",
  model: "openai:gpt-4o-mini",
  system: "You are helpful.",
  messages: [
    { role: "user", content: "What is 2+2?" },
    { role: "assistant", content: "4" },
    { role: "user", content: "And 3+3?" },
  ],
  settings: { temperature: 0, stopSequences: ["\n\n"] },
};

function reply(text = "6"): CachedReply {
  return { text, finishReason: "stop", model: "gpt-4o-mini", provider: "openai", createdAt: "2025-01-01T00:00:00.000Z" };
}

describe("responseCacheKey", () => {
  it("is a versioned sha256 that is stable for the same request", () => {
    const key = responseCacheKey(base);
    expect(key).toMatch(/^botgpt:rc:v2:[0-9a-f]{64}$/);
    expect(responseCacheKey(structuredClone(base))).toBe(key);
  });

  it.each<[string, Partial<CacheableRequest>]>([
    ["the user", { owner: "user-2" }],
    ["model", { model: "openai:gpt-4o" }],
    ["system", { system: "You are terse." }],
    ["no system", { system: null }],
    ["a message's content", { messages: [...base.messages.slice(0, 2), { role: "user", content: "And 3+4?" }] }],
    ["a message's role", { messages: [...base.messages.slice(0, 2), { role: "system", content: "And 3+3?" }] }],
    ["one message fewer", { messages: base.messages.slice(1) }],
    ["temperature", { settings: { ...base.settings, temperature: 0.7 } }],
    ["topP", { settings: { ...base.settings, topP: 0.9 } }],
    ["maxOutputTokens", { settings: { ...base.settings, maxOutputTokens: 100 } }],
    ["stop sequences", { settings: { ...base.settings, stopSequences: ["END"] } }],
  ])("changes with %s", (_, change) => {
    expect(responseCacheKey({ ...base, ...change })).not.toBe(responseCacheKey(base));
  });

  it("cannot be fooled by moving text across message boundaries", () => {
    const a = { ...base, messages: [{ role: "user", content: "ab" }, { role: "user", content: "c" }] };
    const b = { ...base, messages: [{ role: "user", content: "a" }, { role: "user", content: "bc" }] };
    const c = { ...base, system: null, messages: [{ role: "user", content: "You are helpful." }] };
    const d = { ...base, system: "You are helpful.", messages: [] };
    expect(responseCacheKey(a)).not.toBe(responseCacheKey(b));
    expect(responseCacheKey(c)).not.toBe(responseCacheKey(d));
  });

  it("treats unset settings alike however they are unset", () => {
    const bare = responseCacheKey({ ...base, settings: {} });
    expect(
      responseCacheKey({
        ...base,
        settings: { temperature: undefined, topP: undefined, maxOutputTokens: undefined, stopSequences: undefined },
      }),
    ).toBe(bare);
    expect(responseCacheKey({ ...base, settings: { stopSequences: [] } })).toBe(bare);
    expect(responseCacheKey({ ...base, settings: { temperature: 0 } })).not.toBe(bare);
  });

  it("ignores the order settings were written in and fields it does not know", () => {
    const reordered = { stopSequences: ["\n\n"], temperature: 0 };
    const withIds = base.messages.map((m, i) => ({ id: `m${i}`, ...m }));
    expect(responseCacheKey({ ...base, settings: reordered })).toBe(responseCacheKey(base));
    expect(responseCacheKey({ ...base, messages: withIds })).toBe(responseCacheKey(base));
  });
});

describe("isCacheable", () => {
  it.each([
    ["off", { temperature: 0 }, false],
    ["off", { temperature: 1 }, false],
    ["off", {}, false],
    ["deterministic", { temperature: 0 }, true],
    ["deterministic", { temperature: 0.2 }, false],
    ["deterministic", {}, false],
    ["always", { temperature: 0 }, true],
    ["always", { temperature: 1.5 }, true],
    ["always", {}, true],
  ] as const)("mode %s with %o → %s", (mode, settings, expected) => {
    expect(isCacheable(settings, mode)).toBe(expected);
  });

  it("defaults to RESPONSE_CACHE (deterministic unless configured)", () => {
    expect(isCacheable({ temperature: 0 })).toBe(true);
    expect(isCacheable({ temperature: 1 })).toBe(false);
  });
});

describe("MemoryResponseCache", () => {
  it("evicts the least recently used entry, counting reads as use", async () => {
    const cache = new MemoryResponseCache({ maxEntries: 3 });
    await cache.set("a", reply("A"), 60);
    await cache.set("b", reply("B"), 60);
    await cache.set("c", reply("C"), 60);
    expect((await cache.get("a"))?.text).toBe("A"); // a is now the most recent; b the least
    await cache.set("d", reply("D"), 60);
    expect(cache.size).toBe(3);
    expect(await cache.get("b")).toBeNull();
    await cache.set("e", reply("E"), 60); // c is the least recent now
    expect(await cache.get("c")).toBeNull();
    expect((await Promise.all(["a", "d", "e"].map((k) => cache.get(k)))).map((r) => r?.text)).toEqual(["A", "D", "E"]);
  });

  it("overwriting a key refreshes it instead of adding a second entry", async () => {
    const cache = new MemoryResponseCache({ maxEntries: 2 });
    await cache.set("a", reply("A1"), 60);
    await cache.set("b", reply("B"), 60);
    await cache.set("a", reply("A2"), 60);
    await cache.set("c", reply("C"), 60);
    expect(await cache.get("b")).toBeNull();
    expect((await cache.get("a"))?.text).toBe("A2");
  });

  it("expires each entry after its own TTL", async () => {
    let now = 1_000_000;
    const cache = new MemoryResponseCache({ maxEntries: 10, now: () => now });
    await cache.set("short", reply("S"), 10);
    await cache.set("long", reply("L"), 60);
    now += 9_999;
    expect((await cache.get("short"))?.text).toBe("S");
    now += 1;
    expect(await cache.get("short")).toBeNull();
    expect(cache.size).toBe(1);
    expect((await cache.get("long"))?.text).toBe("L");
    now += 50_000;
    expect(await cache.get("long")).toBeNull();
  });

  it("uses the real clock by default", async () => {
    vi.useFakeTimers();
    try {
      const cache = new MemoryResponseCache();
      await cache.set("k", reply(), 5);
      vi.advanceTimersByTime(4_999);
      expect(await cache.get("k")).not.toBeNull();
      vi.advanceTimersByTime(1);
      expect(await cache.get("k")).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it("skips replies over 1 MB (counted in bytes, not characters)", async () => {
    const cache = new MemoryResponseCache({ maxEntries: 10 });
    await cache.set("fits", reply("x".repeat(MAX_CACHED_TEXT_BYTES)), 60);
    await cache.set("ascii", reply("x".repeat(MAX_CACHED_TEXT_BYTES + 1)), 60);
    await cache.set("multibyte", reply("é".repeat(MAX_CACHED_TEXT_BYTES / 2 + 1)), 60);
    expect(await cache.get("fits")).not.toBeNull();
    expect(await cache.get("ascii")).toBeNull();
    expect(await cache.get("multibyte")).toBeNull();
    expect(cache.size).toBe(1);
  });
});

describe("RedisResponseCache (real Redis at 127.0.0.1:6379)", () => {
  let redis: IORedis;
  const prefix = `botgpt:rc:test:${randomUUID()}:`;

  beforeAll(() => {
    redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it("round-trips a reply and sets its TTL", async () => {
    const cache = new RedisResponseCache(redis);
    const key = `${prefix}${responseCacheKey(base)}`;
    expect(await cache.get(key)).toBeNull();
    await cache.set(key, reply("6"), 120);
    expect(await cache.get(key)).toEqual(reply("6"));
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it("a second instance on another connection sees the same entry", async () => {
    const other = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
    try {
      const key = `${prefix}shared`;
      await new RedisResponseCache(redis).set(key, reply("shared"), 60);
      expect((await new RedisResponseCache(other).get(key))?.text).toBe("shared");
    } finally {
      await other.quit();
    }
  });

  it("reads malformed or wrongly shaped values as a miss", async () => {
    const cache = new RedisResponseCache(redis);
    await redis.set(`${prefix}garbage`, "{not json", "EX", 60);
    await redis.set(`${prefix}shape`, JSON.stringify({ text: 1 }), "EX", 60);
    expect(await cache.get(`${prefix}garbage`)).toBeNull();
    expect(await cache.get(`${prefix}shape`)).toBeNull();
  });

  it("treats an unreachable Redis as a miss, logs once, and never throws", async () => {
    const down = new IORedis("redis://127.0.0.1:1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on("error", () => {});
    const log = vi.spyOn(logger, "error").mockImplementation(() => {});
    try {
      const cache = new RedisResponseCache(down);
      expect(await cache.get("k")).toBeNull();
      await expect(cache.set("k", reply(), 60)).resolves.toBeUndefined();
      expect(await cache.get("k")).toBeNull();
      expect(log).toHaveBeenCalledTimes(1);
    } finally {
      log.mockRestore();
      down.disconnect();
    }
  });

  it("gives up on a command that hangs instead of holding up the turn", async () => {
    const hanging = { get: () => new Promise(() => {}), set: () => new Promise(() => {}) } as unknown as IORedis;
    const log = vi.spyOn(logger, "error").mockImplementation(() => {});
    try {
      const cache = new RedisResponseCache(hanging, 20);
      const started = Date.now();
      expect(await cache.get("k")).toBeNull();
      await cache.set("k", reply(), 60);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(log).toHaveBeenCalledTimes(1);
      expect(String((log.mock.calls[0]?.[0] as { err?: Error } | undefined)?.err?.message)).toContain("timed out");
    } finally {
      log.mockRestore();
    }
  });
});

describe("lookup metrics", () => {
  const count = async (name: "cacheHits" | "cacheMisses") => (await metrics[name].get()).values.reduce((sum, v) => sum + v.value, 0);

  it("counts each lookup as a hit or a miss; writes count as neither", async () => {
    const cache = countLookups(new MemoryResponseCache());
    const [hits, misses] = [await count("cacheHits"), await count("cacheMisses")];
    expect(await cache.get("k")).toBeNull();
    await cache.set("k", reply(), 60);
    expect(await cache.get("k")).toMatchObject({ text: reply().text });
    expect(await cache.get("k")).not.toBeNull();
    expect(await count("cacheHits")).toBe(hits + 2);
    expect(await count("cacheMisses")).toBe(misses + 1);
  });
});
