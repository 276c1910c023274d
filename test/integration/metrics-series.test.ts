import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";
import { ISSUE_SERIES } from "../support/metric-series";

/**
 * Issue 8's series in /api/metrics: every one is in the exposition from the start, and the cache,
 * rate-limit and retrieval series move with what happens.
 */

let h: Harness;
let conversations: typeof import("@/app/api/v1/conversations/route");
let messages: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let documents: typeof import("@/app/api/v1/documents/route");
let document: typeof import("@/app/api/v1/documents/[id]/route");

beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_PER_MINUTE: "3", METRICS_PUBLIC: "true" });
  conversations = await import("@/app/api/v1/conversations/route");
  messages = await import("@/app/api/v1/conversations/[id]/messages/route");
  documents = await import("@/app/api/v1/documents/route");
  document = await import("@/app/api/v1/documents/[id]/route");
});
afterAll(() => h.close());

async function scrape(): Promise<string> {
  const route = await import("@/app/api/metrics/route");
  const res = await call(route.GET);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sample's value, or 0 when the exposition has no such sample. */
const value = (text: string, sample: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
};

describe("issue 8 series", () => {
  it("label every unknown path alike, so probing paths cannot grow the series", async () => {
    const catchAll = await import("@/app/api/v1/[...path]/route");
    for (const path of ["/api/v1/probe-one", "/api/v1/wp-admin/probe-two"]) {
      expect((await call(catchAll.GET, { path })).status).toBe(404);
    }
    const text = await scrape();
    expect(value(text, 'botgpt_http_request_duration_seconds_count{method="GET",route="(unmatched)",status="404"}')).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain("probe-one");
    expect(text).not.toContain("probe-two");
  });

  it("are all in the exposition, with the known label sets at zero", async () => {
    const text = await scrape();
    for (const [name, type] of ISSUE_SERIES) expect(text).toContain(`# TYPE ${name} ${type}\n`);
    for (const kind of ["default", "chat"]) expect(text).toMatch(new RegExp(`^botgpt_rate_limit_rejections_total\\{kind="${kind}"\\} \\d+$`, "m"));
    for (const mode of ["hybrid", "lexical"]) expect(text).toContain(`botgpt_retrieval_duration_seconds_count{mode="${mode}"}`);
  });

  it("count a 429 as a rejection of its bucket", async () => {
    const { cookie } = await h.signUp();
    const before = value(await scrape(), 'botgpt_rate_limit_rejections_total{kind="default"}');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(conversations.GET, { cookie })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(value(await scrape(), 'botgpt_rate_limit_rejections_total{kind="default"}') - before).toBe(2);
  });

  it("count response-cache misses and hits for deterministic turns", async () => {
    const { cookie } = await h.signUp();
    const text0 = await scrape();
    const body = { model: "openai:gpt-4o-mini", temperature: 0, first_message: `cache me ${Date.now()}` };
    const first = await call(conversations.POST, { cookie, body });
    expect(first.status).toBe(201);
    const calls = h.mock.requests.length;
    const second = await call(conversations.POST, { cookie, body });
    expect(second.status).toBe(201);
    // The second reply came from the cache: no new provider call.
    expect(h.mock.requests.length).toBe(calls);
    const text1 = await scrape();
    expect(value(text1, "botgpt_response_cache_misses_total") - value(text0, "botgpt_response_cache_misses_total")).toBe(1);
    expect(value(text1, "botgpt_response_cache_hits_total") - value(text0, "botgpt_response_cache_hits_total")).toBe(1);
  });

  it("time retrieval for a grounded turn, by mode", async () => {
    const { cookie } = await h.signUp();
    const form = new FormData();
    form.set("file", new File(["The Zorblax reactor coolant temperature is 412 kelvin."], "notes.txt", { type: "text/plain" }));
    const uploaded = await documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), { params: Promise.resolve({}) });
    expect(uploaded.status).toBe(202);
    const { id } = (await uploaded.json()) as { id: string };
    await (await import("@/lib/retrieval/queue")).kickIngestion();
    await expect
      .poll(async () => ((await (await call(document.GET, { cookie, params: { id } })).json()) as { status: string }).status, { timeout: 20_000 })
      .toBe("ready");
    const created = await call(conversations.POST, { cookie, body: { document_ids: [id], model: "offline:bot-gpt-offline" } });
    expect(created.status).toBe(201);
    const { conversation } = (await created.json()) as { conversation: { id: string; mode: string } };
    expect(conversation.mode).toBe("grounded");

    const count = 'botgpt_retrieval_duration_seconds_count{mode="lexical"}';
    const before = value(await scrape(), count);
    const res = await call(messages.POST, { cookie, params: { id: conversation.id }, body: { content: "What is the Zorblax coolant temperature?" } });
    expect(res.status).toBe(201);
    const after = await scrape();
    expect(value(after, count) - before).toBe(1);
    // No embedding model is configured here, so nothing was ranked by vectors.
    expect(value(after, 'botgpt_retrieval_duration_seconds_count{mode="hybrid"}')).toBe(0);
  });
});
