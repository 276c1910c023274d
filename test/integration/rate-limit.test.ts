import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let conversations: typeof import("@/app/api/v1/conversations/route");
let rateLimit: typeof import("@/lib/api/rate-limit");
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_PER_MINUTE: "5" });
  conversations = await import("@/app/api/v1/conversations/route");
  rateLimit = await import("@/lib/api/rate-limit");
});
afterAll(() => h.close());

describe("rate limits", () => {
  it("sends RateLimit headers and answers 429 with Retry-After past the limit", async () => {
    const { cookie } = await h.signUp();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await call(conversations.GET, { cookie });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-limit")).toBe("5");
        expect(last.headers.get("ratelimit-remaining")).toBe("4");
        expect(Number(last.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last!.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await last!.json()) as { code: string }).code).toBe("rate_limited");
    // Another user has a bucket of their own.
    expect((await call(conversations.GET, { cookie: (await h.signUp()).cookie })).status).toBe(200);
  });

  it("sends RateLimit headers on 403s too, and counts them", async () => {
    const { cookie } = await h.signUp();
    const keys = await import("@/app/api/v1/api-keys/route");
    const created = await call(keys.POST, { cookie, body: { name: "read only", scopes: ["conversations:read"] } });
    const { key } = (await created.json()) as { key: string };
    const authorization = `Bearer ${key}`;
    const missingScope = await call(conversations.POST, { headers: { authorization }, body: { title: "no" } });
    expect(missingScope.status).toBe(403);
    expect(missingScope.headers.get("ratelimit-limit")).not.toBeNull();
    const crossOrigin = await call(conversations.POST, { cookie, headers: { origin: "http://localhost:4000" }, body: { title: "no" } });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.headers.get("ratelimit-remaining")).not.toBeNull();
    const sessionOnly = [await call(keys.GET, { headers: { authorization } }), await call(keys.GET, { headers: { authorization } })];
    expect(sessionOnly.map((r) => r.status)).toEqual([403, 403]);
    expect(sessionOnly[0]!.headers.get("ratelimit-limit")).toBe("5");
    // Refusals are charged: a key cannot probe for free.
    const [before, after] = sessionOnly.map((r) => Number(r.headers.get("ratelimit-remaining")));
    expect(after).toBe(before! - 1);
  });

  it("charges a body that fails to parse on a route whose body picks the bucket (it carries RateLimit-* too)", async () => {
    const { cookie } = await h.signUp();
    const invalid = await call(conversations.POST, { cookie, body: { no_such_field: true } });
    expect(invalid.status).toBe(422);
    expect(invalid.headers.get("ratelimit-limit")).not.toBeNull();
    const again = await call(conversations.POST, { cookie, body: { no_such_field: true } });
    expect(Number(again.headers.get("ratelimit-remaining"))).toBe(Number(invalid.headers.get("ratelimit-remaining")) - 1);
  });

  it("charges an empty new conversation to the general bucket and one with a first message to the model bucket", async () => {
    const { env } = await import("@/lib/env");
    const saved = env.RATE_LIMIT_CHAT_PER_MINUTE;
    env.RATE_LIMIT_CHAT_PER_MINUTE = 2;
    try {
      const { cookie } = await h.signUp();
      const empty = [];
      for (let i = 0; i < 3; i++) empty.push(await call(conversations.POST, { cookie, body: { title: `empty ${i}` } }));
      expect(empty.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(empty.map((r) => r.headers.get("ratelimit-limit"))).toEqual(["5", "5", "5"]);
      const asking = await call(conversations.POST, { cookie, body: { first_message: "calls the model" } });
      expect(asking.status).toBe(201);
      expect(asking.headers.get("ratelimit-limit")).toBe("2");
      expect(asking.headers.get("ratelimit-remaining")).toBe("1");
    } finally {
      env.RATE_LIMIT_CHAT_PER_MINUTE = saved;
    }
  });

  it("lets requests through (and logs) when the limiter's store is down", async () => {
    rateLimit.setRateLimitStore({ take: () => Promise.reject(new Error("connection refused")) });
    try {
      const { cookie } = await h.signUp();
      const res = await call(conversations.GET, { cookie });
      expect(res.status).toBe(200);
    } finally {
      rateLimit.setRateLimitStore(undefined);
    }
  });

  it("refills steadily (GCRA)", () => {
    const limit = { limit: 60, periodMs: 60_000 };
    let tat: number | undefined;
    for (let i = 0; i < 60; i++) tat = rateLimit.gcra(tat, 0, limit).tat;
    expect(rateLimit.gcra(tat, 0, limit).decision.allowed).toBe(false);
    expect(rateLimit.gcra(tat, 999, limit).decision.allowed).toBe(false);
    const after = rateLimit.gcra(tat, 1_000, limit).decision;
    expect(after).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("two instances sharing Redis share one limit", async () => {
    const a = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const b = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await a.connect();
    await b.connect();
    try {
      const prefix = `bgpt:test:${randomUUID()}:`;
      const instanceA = new rateLimit.RedisRateLimitStore(a, prefix);
      const instanceB = new rateLimit.RedisRateLimitStore(b, prefix);
      const limit = { limit: 4, periodMs: 60_000 };
      const decisions = [];
      for (let i = 0; i < 6; i++) decisions.push(await (i % 2 ? instanceB : instanceA).take("user:1", limit));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, false, false]);
      expect(decisions.map((d) => d.remaining).slice(0, 4)).toEqual([3, 2, 1, 0]);
      expect(decisions[4]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Route handlers use the shared store when it is configured.
      rateLimit.setRateLimitStore(instanceA);
      const { cookie, user } = await h.signUp();
      const res = await call(conversations.GET, { cookie });
      expect(res.headers.get("ratelimit-remaining")).toBe("4");
      expect(await a.exists(`${prefix}user:${user.id}:default`)).toBe(1);
    } finally {
      rateLimit.setRateLimitStore(undefined);
      a.disconnect();
      b.disconnect();
    }
  });
});
