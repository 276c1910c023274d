import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * CSRF from the same site: a page on another port of the app's host (same site, other origin)
 * gets the victim's session cookie attached to its form posts and simple fetches. Every
 * state-changing request authenticated by cookie (and sign-up, and next-auth's POSTs) must come
 * from the app's own origin; API keys are not cookies and may come from anywhere; CORS_ORIGINS
 * lets listed browser origins use keys.
 */

const APP = "http://localhost";
const OTHER_PORT = "http://localhost:4000";
const LISTED = "https://integrator.example";

let h: Harness;
let conversations: typeof import("@/app/api/v1/conversations/route");
let one: typeof import("@/app/api/v1/conversations/[id]/route");
let documents: typeof import("@/app/api/v1/documents/route");
let stop: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
let keys: typeof import("@/app/api/v1/api-keys/route");

beforeAll(async () => {
  h = await startHarness({ CORS_ORIGINS: `${LISTED}, https://other.example:8443` });
  conversations = await import("@/app/api/v1/conversations/route");
  one = await import("@/app/api/v1/conversations/[id]/route");
  documents = await import("@/app/api/v1/documents/route");
  stop = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
  keys = await import("@/app/api/v1/api-keys/route");
});
afterAll(() => h.close());

async function victim() {
  const { cookie } = await h.signUp();
  const created = await call(conversations.POST, { cookie, body: { title: "mine", first_message: "hello" } });
  const { conversation, messages } = (await created.json()) as { conversation: { id: string }; messages: Array<{ id: string }> };
  return { cookie, id: conversation.id, replyId: messages[1]!.id };
}

function uploadRequest(cookie: string, headers: Record<string, string>, conversationId: string): Request {
  const form = new FormData();
  form.set("file", new File([new TextEncoder().encode("planted text")], "planted.txt", { type: "text/plain" }));
  form.set("conversation_id", conversationId);
  return new Request(`${APP}/api/v1/documents`, { method: "POST", body: form, headers: { cookie, ...headers } });
}

async function expectRefused(response: Response) {
  expect(response.status).toBe(403);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(((await response.json()) as { code: string }).code).toBe("cross_origin_request");
}

const foreign: Array<[string, Record<string, string>]> = [
  ["another port's Origin", { origin: OTHER_PORT }],
  ["Sec-Fetch-Site: same-site", { "sec-fetch-site": "same-site" }],
  ["Sec-Fetch-Site: cross-site with the app's Origin", { "sec-fetch-site": "cross-site", origin: APP }],
  ["Origin: null (a sandboxed frame)", { origin: "null" }],
  ["a listed CORS origin (CORS is for keys, not cookies)", { origin: LISTED }],
];

describe("cookie-authenticated state changes from another origin", () => {
  it.each(foreign)("are refused: %s", async (_label, headers) => {
    const { cookie, id, replyId } = await victim();
    await expectRefused(await documents.POST(uploadRequest(cookie, headers, id)));
    await expectRefused(await call(stop.POST, { cookie, headers, method: "POST", params: { id, message_id: replyId } }));
    await expectRefused(await call(one.PATCH, { cookie, headers, method: "PATCH", params: { id }, body: { title: "pwned" } }));
    await expectRefused(await call(one.DELETE, { cookie, headers, method: "DELETE", params: { id } }));
    await expectRefused(await call(keys.POST, { cookie, headers, body: { name: "stolen", scopes: ["conversations:read"] } }));
    // Nothing changed: no document planted, the conversation is intact.
    const listed = (await (await call(documents.GET, { cookie })).json()) as { data: unknown[] };
    expect(listed.data).toHaveLength(0);
    const after = (await (await call(one.GET, { cookie, params: { id } })).json()) as { conversation: { title: string; document_ids: string[] } };
    expect(after.conversation).toMatchObject({ title: "mine", document_ids: [] });
    // Reads are not state changes (and cross-origin scripts cannot read them without CORS).
    expect((await call(one.GET, { cookie, headers, params: { id } })).status).toBe(200);
  });

  it("sign-up and next-auth's POSTs are refused too", async () => {
    const signUp = await import("@/app/api/auth/sign-up/route");
    const nextAuth = await import("@/app/api/auth/[...nextauth]/route");
    const { NextRequest } = await import("next/server");
    const account = { email: `csrf-${Date.now()}@example.test`, password: "long enough password" };
    await expectRefused(await call(signUp.POST, { headers: { origin: OTHER_PORT }, body: account }));
    for (const action of [["callback", "credentials"], ["signout"], ["signin", "credentials"], ["session"]]) {
      const request = new NextRequest(`${APP}/api/auth/${action.join("/")}`, {
        method: "POST",
        headers: { origin: OTHER_PORT, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken: "planted", ...account }),
      });
      await expectRefused(await nextAuth.POST(request, { params: Promise.resolve({ nextauth: action }) }));
    }
  });

  it("work from the app's own origin", async () => {
    const { cookie, id, replyId } = await victim();
    const own = { origin: APP, "sec-fetch-site": "same-origin" };
    const upload = await documents.POST(uploadRequest(cookie, own, id));
    expect(upload.status).toBe(202);
    expect((await call(stop.POST, { cookie, headers: own, method: "POST", params: { id, message_id: replyId } })).status).toBeLessThan(300);
    expect((await call(one.PATCH, { cookie, headers: own, method: "PATCH", params: { id }, body: { title: "renamed" } })).status).toBe(200);
    expect((await call(one.DELETE, { cookie, headers: { "sec-fetch-site": "same-origin" }, method: "DELETE", params: { id } })).status).toBe(204);
    // Behind a proxy the browser's origin is the forwarded host's.
    const proxied = { origin: "https://chat.example", "x-forwarded-host": "chat.example", "x-forwarded-proto": "https" };
    expect((await call(conversations.POST, { cookie, headers: proxied, body: { title: "via proxy" } })).status).toBe(201);
    const signUp = await import("@/app/api/auth/sign-up/route");
    const account = { email: `own-${Date.now()}@example.test`, password: "long enough password" };
    expect((await call(signUp.POST, { headers: own, body: account })).status).toBe(202);
  });

  it("API keys work from any origin (they are not cookies)", async () => {
    const { cookie, id } = await victim();
    const created = await call(keys.POST, { cookie, body: { name: "k", scopes: ["conversations:read", "conversations:write"] } });
    const { key } = (await created.json()) as { key: string };
    const headers = { authorization: `Bearer ${key}`, origin: "https://anywhere.example", "sec-fetch-site": "cross-site" };
    const res = await call(one.PATCH, { headers, method: "PATCH", params: { id }, body: { title: "from an integrator" } });
    expect(res.status).toBe(200);
  });
});

describe("CORS_ORIGINS", () => {
  const preflight = (origin: string) =>
    call(conversations.OPTIONS, {
      method: "OPTIONS",
      path: "/api/v1/conversations",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
    });

  it("answers a listed origin's preflight, never with credentials", async () => {
    const res = await preflight(LISTED);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(LISTED);
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, HEAD, OPTIONS, POST");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const name of ["authorization", "content-type", "idempotency-key"]) expect(allowed).toContain(name);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    // The second listed origin (with a port) too.
    expect((await preflight("https://other.example:8443")).headers.get("access-control-allow-origin")).toBe("https://other.example:8443");
  });

  it("gives an unlisted origin no CORS headers", async () => {
    for (const origin of [OTHER_PORT, "https://integrator.example.evil.test", "null"]) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
      expect([...res.headers.keys()].filter((name) => name.startsWith("access-control-"))).toEqual([]);
    }
  });

  it("exposes the API's headers to a listed origin on real responses", async () => {
    const { cookie } = await h.signUp();
    const created = await call(keys.POST, { cookie, body: { name: "browser", scopes: ["conversations:read", "conversations:write"] } });
    const { key } = (await created.json()) as { key: string };
    const listed = await call(conversations.POST, { path: "/api/v1/conversations", headers: { authorization: `Bearer ${key}`, origin: LISTED }, body: { title: "cors" } });
    expect(listed.status).toBe(201);
    expect(listed.headers.get("access-control-allow-origin")).toBe(LISTED);
    const exposed = (listed.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const name of ["x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after", "idempotent-replayed"]) {
      expect(exposed).toContain(name);
    }
    expect(listed.headers.get("access-control-allow-credentials")).toBeNull();
    const unlisted = await call(conversations.GET, { path: "/api/v1/conversations", headers: { authorization: `Bearer ${key}`, origin: OTHER_PORT } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();
  });
});
