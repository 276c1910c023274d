import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let list: typeof import("@/app/api/v1/conversations/route");
let one: typeof import("@/app/api/v1/conversations/[id]/route");
let messages: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let models: typeof import("@/app/api/v1/models/route");

beforeAll(async () => {
  h = await startHarness();
  list = await import("@/app/api/v1/conversations/route");
  one = await import("@/app/api/v1/conversations/[id]/route");
  messages = await import("@/app/api/v1/conversations/[id]/messages/route");
  models = await import("@/app/api/v1/models/route");
});
afterAll(() => h.close());

type Conversation = { id: string; title: string; pinned: boolean; archived: boolean; message_count: number; last_message_at: string | null };

async function create(cookie: string, body: Record<string, unknown> = {}) {
  const res = await call(list.POST, { cookie, body });
  expect(res.status).toBe(201);
  return (await res.json()) as { conversation: Conversation; messages: Array<{ role: string; seq: number }> };
}

describe("conversations API", () => {
  it("creates with a first message and returns both messages, titled from it", async () => {
    const { cookie } = await h.signUp();
    const body = await create(cookie, { first_message: "  How do **tides** work\n on Earth?  " });
    expect(body.conversation.title).toBe("How do tides work on Earth?");
    expect(body.conversation.message_count).toBe(2);
    expect(body.messages.map((m) => [m.seq, m.role])).toEqual([
      [1, "user"],
      [2, "assistant"],
    ]);
  });

  it("creates an empty conversation with the default model", async () => {
    const { cookie } = await h.signUp();
    const body = await create(cookie, { title: "Plans", system_prompt: "Be brief." });
    expect(body.messages).toEqual([]);
    expect(body.conversation).toMatchObject({ title: "Plans", model: "openai:gpt-4o-mini", system_prompt: "Be brief.", mode: "open", document_ids: [] });
    expect(body.conversation.last_message_at).toBeNull();
  });

  it("lists most recently active first with a stable cursor", async () => {
    const { cookie } = await h.signUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(cookie, { title: `c${i}` })).conversation.id);
    // Activity on the oldest moves it to the top.
    await call(messages.POST, { cookie, params: { id: ids[0]! }, body: { content: "bump" } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(list.GET, { cookie, path: `/api/v1/conversations?limit=2${cursor ? `&cursor=${cursor}` : ""}` });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: Conversation[]; next_cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([ids[0], ids[4], ids[3], ids[2], ids[1]]);
  });

  it("searches titles and content and filters archived", async () => {
    const { cookie } = await h.signUp();
    const a = (await create(cookie, { title: "Volcano facts" })).conversation.id;
    const b = (await create(cookie, { first_message: "tell me about glaciers" })).conversation.id;
    await create(cookie, { title: "Unrelated" });
    const search = async (q: string) => {
      const res = await call(list.GET, { cookie, path: `/api/v1/conversations?q=${encodeURIComponent(q)}` });
      return ((await res.json()) as { data: Conversation[] }).data.map((c) => c.id);
    };
    expect(await search("volcano")).toEqual([a]);
    expect(await search("GLACIERS")).toEqual([b]);
    expect(await search("100%")).toEqual([]);
    // Full-text: words in any order, quotes and minus as in web search, stray syntax is harmless.
    expect(await search("glaciers tell")).toEqual([b]);
    expect(await search('"about glaciers"')).toEqual([b]);
    expect(await search("glaciers -tell")).toEqual([]);
    expect(await search("(&|!:*")).toEqual([]);

    await call(one.PATCH, { cookie, params: { id: a }, body: { archived: true } });
    const active = (await (await call(list.GET, { cookie, path: "/api/v1/conversations" })).json()) as { data: Conversation[] };
    expect(active.data.map((c) => c.id)).not.toContain(a);
    const archived = (await (await call(list.GET, { cookie, path: "/api/v1/conversations?archived=true" })).json()) as { data: Conversation[] };
    expect(archived.data.map((c) => c.id)).toEqual([a]);
  });

  it("filters pinned and unpinned apart, each page in activity order; without the flag lists both", async () => {
    const { cookie } = await h.signUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(cookie, { title: `p${i}` })).conversation.id);
    for (const id of [ids[1]!, ids[3]!]) {
      expect((await call(one.PATCH, { cookie, params: { id }, body: { pinned: true } })).status).toBe(200);
    }
    const archivedPin = (await create(cookie, { title: "old pin" })).conversation.id;
    await call(one.PATCH, { cookie, params: { id: archivedPin }, body: { pinned: true, archived: true } });
    const listIds = async (query: string) => {
      const res = await call(list.GET, { cookie, path: `/api/v1/conversations?${query}` });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: Conversation[]; next_cursor: string | null };
      return { ids: page.data.map((c) => c.id), pinned: page.data.map((c) => c.pinned), next: page.next_cursor };
    };
    const pinned = await listIds("pinned=true");
    expect(pinned.ids).toEqual([ids[3], ids[1]]);
    expect(pinned.pinned).toEqual([true, true]);
    expect((await listIds("pinned=false")).ids).toEqual([ids[4], ids[2], ids[0]]);
    expect((await listIds("")).ids).toEqual([ids[4], ids[3], ids[2], ids[1], ids[0]]);
    expect((await listIds("pinned=true&archived=true")).ids).toEqual([archivedPin]);
    expect((await listIds("pinned=true&q=p3")).ids).toEqual([ids[3]]);
    // The cursor keeps the filter's order across pages.
    const first = await listIds("pinned=false&limit=2");
    expect(first.ids).toEqual([ids[4], ids[2]]);
    expect((await listIds(`pinned=false&limit=2&cursor=${first.next}`)).ids).toEqual([ids[0]]);

    const bad = await call(list.GET, { cookie, path: "/api/v1/conversations?pinned=yes" });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { code: string }).code).toBe("validation_failed");

    const { openApiDocument } = await import("@/app/api/v1/openapi-document");
    const listOp = openApiDocument().paths["/conversations"]?.get as { parameters: Array<{ name: string; required: boolean; schema: unknown }> };
    expect(listOp.parameters.find((p) => p.name === "pinned")).toMatchObject({ required: false, schema: { enum: ["true", "false"] } });
  });

  it("patches, gets and deletes for the owner; 404 for anyone else", async () => {
    const owner = await h.signUp();
    const stranger = await h.signUp();
    const { conversation } = await create(owner.cookie, { first_message: "private thoughts" });
    const params = { id: conversation.id };

    for (const handler of [one.GET, messages.GET]) {
      const res = await call(handler, { cookie: stranger.cookie, params });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe("conversation_not_found");
    }
    expect((await call(one.PATCH, { cookie: stranger.cookie, params, body: { title: "mine now" } })).status).toBe(404);
    expect((await call(messages.POST, { cookie: stranger.cookie, params, body: { content: "hi" } })).status).toBe(404);
    expect((await call(one.DELETE, { cookie: stranger.cookie, params, method: "DELETE" })).status).toBe(404);

    const patched = await call(one.PATCH, { cookie: owner.cookie, params, body: { title: "Renamed", pinned: true } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ title: "Renamed", pinned: true });

    const page = await call(messages.GET, { cookie: owner.cookie, params, path: "/x?limit=1" });
    const body = (await page.json()) as { data: Array<{ seq: number }>; next_cursor: string };
    expect(body.data.map((m) => m.seq)).toEqual([1]);
    const next = await call(messages.GET, { cookie: owner.cookie, params, path: `/x?limit=1&cursor=${body.next_cursor}` });
    expect(((await next.json()) as { data: Array<{ seq: number }> }).data.map((m) => m.seq)).toEqual([2]);

    expect((await call(one.DELETE, { cookie: owner.cookie, params, method: "DELETE" })).status).toBe(204);
    expect((await call(one.GET, { cookie: owner.cookie, params })).status).toBe(404);
  });

  it("rejects bad input with problem+json and a code", async () => {
    const { cookie } = await h.signUp();
    const expectProblem = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as { code: string; type: string; request_id: string; errors?: unknown[] };
      expect(problem.code).toBe(code);
      expect(problem.type).toMatch(/\/errors\/[a-z_]+$/);
      expect(problem.request_id).toBeTruthy();
      return problem;
    };
    await expectProblem(await call(list.GET, {}), 401, "unauthenticated");
    await expectProblem(await call(list.POST, { cookie: "next-auth.session-token=forged" , body: {} }), 401, "unauthenticated");
    await expectProblem(await call(list.POST, { cookie, rawBody: "{not json", headers: { "content-type": "application/json" } }), 400, "invalid_json");
    await expectProblem(await call(list.POST, { cookie, rawBody: "hello", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    const huge = JSON.stringify({ title: "x", system_prompt: "y".repeat(1024 * 1024) });
    await expectProblem(await call(list.POST, { cookie, rawBody: huge, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    const unknown = await expectProblem(await call(list.POST, { cookie, body: { titel: "typo" } }), 422, "validation_failed");
    expect(unknown.errors).toEqual([{ path: "titel", message: "Unknown field" }]);
    // A model this server does not list is OpenAI's 404 model_not_found, as everywhere a model is chosen.
    await expectProblem(await call(list.POST, { cookie, body: { model: "nope:thing" } }), 404, "model_not_found");
    await expectProblem(await call(list.GET, { cookie, path: "/c?limit=0" }), 422, "validation_failed");
    await expectProblem(await call(list.GET, { cookie, path: "/c?cursor=garbage" }), 400, "invalid_cursor");
    await expectProblem(await call(one.GET, { cookie, params: { id: "not-a-uuid" } }), 404, "conversation_not_found");
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    await expectProblem(await call(list.GET, { cookie, path: `/c?cursor=${forged({ at: "12", id: crypto.randomUUID() })}` }), 400, "invalid_cursor");
    await expectProblem(await call(list.POST, { cookie, body: { title: "nul\u0000byte" } }), 422, "validation_failed");
    await expectProblem(await call(list.GET, { cookie, path: "/c?q=a%00b" }), 422, "validation_failed");

    const { conversation } = await create(cookie);
    const params = { id: conversation.id };
    await expectProblem(await call(messages.POST, { cookie, params, body: { content: "" } }), 422, "validation_failed");
    await expectProblem(await call(messages.POST, { cookie, params, body: { content: "   " } }), 422, "validation_failed");
    await expectProblem(await call(messages.POST, { cookie, params, body: { content: "x".repeat(32_001) } }), 422, "validation_failed");
    await expectProblem(await call(messages.POST, { cookie, params, body: { content: "hi\u0000", stream: true } }), 422, "validation_failed");
    await expectProblem(await call(messages.GET, { cookie, params, path: `/m?cursor=${forged({ seq: 3_000_000_000 })}` }), 400, "invalid_cursor");
    const usage = await import("@/app/api/v1/usage/route");
    await expectProblem(await call(usage.GET, { cookie, path: "/u?from=0000-01-01T00:00:00Z" }), 422, "validation_failed");
    await expectProblem(await call(usage.GET, { cookie, path: "/u?to=0001-01-05T00:00:00Z" }), 422, "validation_failed");
    // Nothing was saved by the rejected requests.
    const after = (await (await call(one.GET, { cookie, params })).json()) as { messages: unknown[] };
    expect(after.messages).toEqual([]);
  });

  it("answers problem+json for unknown endpoints", async () => {
    const fallback = await import("@/app/api/v1/[...path]/route");
    const res = await call(fallback.GET, { path: "/api/v1/nothing-here" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("route_not_found");
  });

  it("echoes a sane X-Request-Id and replaces a bad one", async () => {
    const { cookie } = await h.signUp();
    const echoed = await call(list.GET, { cookie, headers: { "x-request-id": "req-abc.123" } });
    expect(echoed.headers.get("x-request-id")).toBe("req-abc.123");
    const replaced = await call(list.GET, { cookie, headers: { "x-request-id": "bad id\twith spaces" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("lists usable models with windows and prices, OpenAI-style", async () => {
    const { cookie } = await h.signUp();
    const res = await call(models.GET, { cookie });
    const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string; context_window: number; default: boolean }> };
    expect(body.object).toBe("list");
    const ids = body.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["openai:gpt-4o-mini", "groq:llama-3.1-8b-instant", "ollama:mock-model", "offline:bot-gpt-offline"]));
    expect(body.data.find((m) => m.default)?.id).toBe("openai:gpt-4o-mini");
    expect(body.data.every((m) => m.object === "model" && m.context_window > 0)).toBe(true);
  });
});
