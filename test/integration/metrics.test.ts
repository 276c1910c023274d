import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/** The resilience series of /api/metrics move with what happens (issue 8 adds the rest). */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ METRICS_TOKEN: "metrics-token-0123456789" });
});
afterAll(() => h.close());
beforeEach(async () => {
  h.mock.reset();
  (await import("@/lib/ai/resilience")).resetBreakers();
});

async function scrape(token = "metrics-token-0123456789"): Promise<string> {
  const route = await import("@/app/api/metrics/route");
  const res = await call(route.GET, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length).trim()) : 0;
};

describe("GET /api/metrics", () => {
  it("requires METRICS_TOKEN when it is set", async () => {
    const route = await import("@/app/api/metrics/route");
    const res = await call(route.GET, { headers: { authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthenticated" });
  });

  it("counts retries, fallbacks and breaker transitions, and shows the breaker state", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const { cookie } = await h.signUp();
    const before = await scrape();
    // Three 503s: two retries, the breaker opens, and the offline model answers.
    h.mock.pushFault({ type: "status", status: 503 }, { type: "status", status: 503 }, { type: "status", status: 503 });
    const res = await call(conversations.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "are you there?" } });
    expect(res.status).toBe(201);
    const after = await scrape();
    const retries = 'botgpt_model_retries_total{provider="openai",model="openai:gpt-4o-mini",code="upstream_unavailable"}';
    expect(value(after, retries) - value(before, retries)).toBe(2);
    const fallbacks = 'botgpt_model_fallbacks_total{provider="offline",model="offline:bot-gpt-offline"}';
    expect(value(after, fallbacks) - value(before, fallbacks)).toBe(1);
    expect(value(after, 'botgpt_circuit_breaker_state{provider="openai"}')).toBe(2);
    expect(value(after, 'botgpt_circuit_breaker_transitions_total{provider="openai",state="open"}')).toBeGreaterThanOrEqual(1);
    expect(after).toContain("botgpt_active_streams");
    expect(after).toContain("botgpt_reply_write_failures_total");
  });
});
