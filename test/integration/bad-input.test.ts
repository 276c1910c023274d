import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/** Input that used to end in a 500: each is a clear 4xx problem now, or simply works. */

let h: Harness;
let cookie: string;

beforeAll(async () => {
  h = await startHarness();
  cookie = (await h.signUp()).cookie;
});
afterAll(() => h.close());

async function problemOf(response: Response): Promise<{ status: number; code: string; detail: string }> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as { code: string; detail: string };
  return { status: response.status, ...problem };
}

const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("JSON nested 10,000 deep", () => {
  it("is a 400 on every kind of JSON route, before anything walks it", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const completions = await import("@/app/api/v1/chat/completions/route");
    const signUp = await import("@/app/api/auth/sign-up/route");
    const headers = { "content-type": "application/json" };
    const cases: Array<[string, Promise<Response>]> = [
      ["a strict schema", call(conversations.POST, { cookie, headers, rawBody: `{"title":${deep(10_000)}}` })],
      ["a lenient schema", call(completions.POST, { cookie, headers, rawBody: `{"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":${deep(10_000)}}` })],
      ["the whole body", call(conversations.POST, { cookie, headers, rawBody: deep(10_000) })],
      ["a public route", call(signUp.POST, { headers, rawBody: `{"email":"a@b.test","password":"long enough","name":${deep(10_000)}}` })],
    ];
    for (const [label, pending] of cases) {
      const problem = await problemOf(await pending);
      expect({ label, status: problem.status, code: problem.code }).toEqual({ label, status: 400, code: "invalid_json" });
      expect(problem.detail).toContain("deeper than 64");
    }
  });

  it("still takes ordinary nesting, and brackets inside strings do not count", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const res = await call(conversations.POST, { cookie, body: { title: `${"[{".repeat(90)} not nesting` } });
    expect(res.status).toBe(201);
  });
});

describe("a NUL character on the public sign-up route", () => {
  it("is a 422 like everywhere else, not a database error", async () => {
    const signUp = await import("@/app/api/auth/sign-up/route");
    const res = await call(signUp.POST, { body: { email: `nul-${Date.now()}@example.test`, password: "long enough password", name: "a\u0000b" } });
    expect(await problemOf(res)).toMatchObject({ status: 422, code: "validation_failed" });
  });
});

describe("temperature: 1e-300 (below what Postgres `real` holds)", () => {
  it("is stored as 0 on create and update instead of failing the insert", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const one = await import("@/app/api/v1/conversations/[id]/route");
    const created = await call(conversations.POST, { cookie, body: { title: "tiny", temperature: 1e-300 } });
    expect(created.status).toBe(201);
    const { conversation } = (await created.json()) as { conversation: { id: string; temperature: number } };
    expect(conversation.temperature).toBe(0);
    const patched = await call(one.PATCH, { cookie, method: "PATCH", params: { id: conversation.id }, body: { temperature: 1e-40 } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { temperature: number }).temperature).toBe(0);
    const ordinary = await call(one.PATCH, { cookie, method: "PATCH", params: { id: conversation.id }, body: { temperature: 0.7 } });
    expect(((await ordinary.json()) as { temperature: number }).temperature).toBeCloseTo(0.7, 6);
  });

  it("works on the OpenAI-compatible endpoint", async () => {
    const completions = await import("@/app/api/v1/chat/completions/route");
    const res = await call(completions.POST, { cookie, body: { model: "openai:gpt-4o-mini", temperature: 1e-300, messages: [{ role: "user", content: "hi" }] } });
    expect(res.status).toBe(200);
  });
});

describe("an odd callbackUrl on next-auth's endpoints", () => {
  async function auth(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const nextAuth = await import("@/app/api/auth/[...nextauth]/route");
    const { NextRequest } = await import("next/server");
    const request = new NextRequest(`http://localhost${url}`, { method: init.method ?? "GET", headers: init.headers, body: init.body });
    const action = new URL(request.url).pathname.split("/").slice(3);
    return (init.method === "POST" ? nextAuth.POST : nextAuth.GET)(request, { params: Promise.resolve({ nextauth: action }) });
  }

  it("is a 400 in the query, the form or the cookie, not next-auth's 500", async () => {
    for (const odd of ["http://[", "javascript:alert(1)", "//[::1"]) {
      const query = await problemOf(await auth(`/api/auth/signin?callbackUrl=${encodeURIComponent(odd)}`));
      expect(query).toMatchObject({ status: 400, code: "bad_request" });
      const form = await auth("/api/auth/callback/credentials", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken: "x", email: "a@b.test", password: "p", callbackUrl: odd }).toString(),
      });
      expect(await problemOf(form)).toMatchObject({ status: 400, code: "bad_request" });
    }
    // A bad callback cookie (another page on the same host can set one) would fail every next-auth
    // request; it is refused and cleared.
    const cookieCase = await auth("/api/auth/session", { headers: { cookie: `next-auth.callback-url=${encodeURIComponent("http://[")}` } });
    expect(cookieCase.status).toBe(400);
    expect(cookieCase.headers.get("set-cookie")).toMatch(/^next-auth\.callback-url=; Path=\/; Max-Age=0/);
  });

  it("a JSON body that does not parse is a 400 too", async () => {
    const res = await auth("/api/auth/callback/credentials", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(await problemOf(res)).toMatchObject({ status: 400, code: "invalid_json" });
  });
});
