import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** GET /api/ready: the database (migrated), Redis when configured, and draining on shutdown. */

beforeAll(() => {
  process.env.REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
});
afterAll(async () => {
  await (await import("@/lib/db/client")).closeDb();
  await (await import("@/lib/redis")).closeRedis();
});

describe("GET /api/ready", () => {
  it("is ready once the database is migrated and Redis answers", async () => {
    const route = await import("@/app/api/ready/route");
    const res = await route.GET(new Request("http://localhost/api/ready", { headers: { "x-request-id": "ready-test" } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ status: "ready", database: process.env.DATABASE_URL ? "postgres" : "pglite", migrated: true, redis: "ok" });
  });

  it("answers 503 draining once shutdown has begun, with nothing left to hand off", async () => {
    const { drain, isDraining } = await import("@/lib/shutdown");
    const report = await drain(0);
    expect(report).toMatchObject({ finished: true, interrupted: 0, requeuedDocuments: 0 });
    expect(isDraining()).toBe(true);
    const route = await import("@/app/api/ready/route");
    const res = await route.GET(new Request("http://localhost/api/ready", { headers: { "x-request-id": "ready-test" } }));
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ code: "service_unavailable", reason: "draining", request_id: "ready-test" });
    expect(res.headers.get("x-request-id")).toBe("ready-test");

    // New model turns are refused while draining; the client retries on another instance.
    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const id = "00000000-0000-4000-8000-000000000000";
    const turn = await messages.POST(
      new Request(`http://localhost/api/v1/conversations/${id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: "hello" }),
      }),
      { params: Promise.resolve({ id }) },
    );
    expect(turn.status).toBe(503);
    expect(turn.headers.get("retry-after")).toBe("5");
    expect(await turn.json()).toMatchObject({ code: "service_unavailable" });
  });
});
