import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Issue 17 item 10: /api/metrics is closed unless configured, and no request can add a series —
 * whatever path, method or model name it carries, the label sets stay the same.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_PER_MINUTE: "100000", RATE_LIMIT_CHAT_PER_MINUTE: "100000", METRICS_PUBLIC: "true", METRICS_TOKEN: "" });
});
afterAll(() => h.close());

/** The metrics route as a process with these settings would serve it (env is read once per import). */
async function metricsRoute(settings: Record<string, string>) {
  Object.assign(process.env, settings);
  vi.resetModules();
  return (await import("@/app/api/metrics/route")).GET;
}

describe("GET /api/metrics access", () => {
  afterAll(() => Object.assign(process.env, { METRICS_PUBLIC: "true", METRICS_TOKEN: "" }));

  it("is refused with 403 problem+json saying how to enable it when neither METRICS_TOKEN nor METRICS_PUBLIC is set", async () => {
    const GET = await metricsRoute({ METRICS_TOKEN: "", METRICS_PUBLIC: "" });
    const res = await call(GET);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("forbidden");
    expect(body.detail).toContain("METRICS_TOKEN");
    expect(body.detail).toContain("METRICS_PUBLIC=true");
  });

  it("with METRICS_TOKEN: 401 without the token or with another, 200 with it (METRICS_PUBLIC does not open it)", async () => {
    const token = "metrics-token-0123456789";
    const GET = await metricsRoute({ METRICS_TOKEN: token, METRICS_PUBLIC: "true" });
    expect((await call(GET)).status).toBe(401);
    const wrong = await call(GET, { headers: { authorization: "Bearer metrics-token-9876543210" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe("Bearer");
    const ok = await call(GET, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("botgpt_http_request_duration_seconds");
  });

  it("with METRICS_PUBLIC=true and no token: 200 to anyone", async () => {
    const GET = await metricsRoute({ METRICS_TOKEN: "", METRICS_PUBLIC: "true" });
    expect((await call(GET)).status).toBe(200);
  });
});

async function scrape(): Promise<string> {
  const res = await call((await import("@/app/api/metrics/route")).GET);
  expect(res.status).toBe(200);
  return res.text();
}

/** The request, model and breaker series of an exposition, without their values. */
function series(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => /^botgpt_(http|model|circuit)_/.test(line))
      .map((line) => line.slice(0, line.lastIndexOf(" "))),
  );
}

describe("metric labels", () => {
  it("stay the same set through thousands of made-up paths, methods and model names", async () => {
    const catchAll = await import("@/app/api/v1/[...path]/route");
    const conversation = await import("@/app/api/v1/conversations/[id]/route");
    const content = await import("@/app/api/v1/documents/[id]/content/route");
    const conversations = await import("@/app/api/v1/conversations/route");
    // next-auth's route is this wrapper around NextAuth (which needs Next's request scope to run here).
    const { withObservation } = await import("@/lib/api/handler");
    const authRoute = withObservation(async () => new Response(null, { status: 400 }));
    const { cookie } = await h.signUp();

    // One request of every kind the flood sends, so their series exist before the first scrape.
    const round = async (i: number) => {
      const word = `probe${i}`;
      await call(catchAll.GET, { path: `/api/v1/${word}/${word}` });
      await call(conversation.GET, { path: `/api/v1/conversations/${word}`, params: { id: word } });
      await call(content.GET, { path: `/api/v1/documents/${word}/content`, params: { id: word } });
      // A method no route has (Next.js hands some through; the wrapper observes whatever arrives).
      await catchAll.GET(new Request(`http://localhost/api/v1/${word}`, { method: `M${i}` }), { params: Promise.resolve({}) });
      await authRoute(new Request(`http://localhost/api/auth/${word}/credentials`), {});
    };
    // Where the server refuses unlisted models (404 model_not_found) the name never reaches a model call.
    let answered = 0;
    const turn = async (i: number) => {
      const res = await call(conversations.POST, { cookie, body: { model: `openai:made-up-model-${i}`, first_message: `hello ${i}` } });
      expect([201, 404]).toContain(res.status);
      if (res.status === 201) answered++;
    };
    await round(0);
    await turn(0);
    h.mock.pushFault({ type: "status", status: 503 });
    await turn(1);
    const before = await scrape();

    for (let i = 1; i <= 1_000; i++) await round(i);
    for (let i = 2; i < 40; i++) await turn(i);
    h.mock.pushFault({ type: "status", status: 503 });
    await turn(40);
    const after = await scrape();

    const added = [...series(after)].filter((s) => !series(before).has(s));
    expect(added).toEqual([]);
    expect(after).not.toMatch(/probe\d|made-up-model|method="M\d/);
    expect(after).toContain('route="/api/v1/conversations/{id}"');
    expect(after).toContain('route="(unmatched)"');
    expect(after).toContain('method="other"');
    if (answered > 0) expect(after).toContain('model="other"');
    // Counters grow a few digits; the 2021 paths alone once added thousands of series (MBs).
    expect(after.length - before.length).toBeLessThan(16 * 1024);
  }, 120_000);
});
