import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockTokenCount } from "../mock-llm/server";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let client: OpenAI;
let cookie: string;
let routes: Record<string, Record<string, (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>>>;

beforeAll(async () => {
  h = await startHarness();
  const completions = await import("@/app/api/v1/chat/completions/route");
  const models = await import("@/app/api/v1/models/route");
  routes = { "/api/v1/chat/completions": { POST: completions.POST }, "/api/v1/models": { GET: models.GET } };
  const keys = await import("@/app/api/v1/api-keys/route");
  ({ cookie } = await h.signUp());
  const created = await call(keys.POST, { cookie, body: { name: "sdk", scopes: ["conversations:read", "conversations:write"] } });
  const { key } = (await created.json()) as { key: string };
  // The official client, unmodified, talking to the route handlers through its fetch hook.
  client = new OpenAI({
    apiKey: key,
    baseURL: "http://bot-gpt.test/api/v1",
    maxRetries: 0,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const route = routes[new URL(request.url).pathname];
      const handler = route?.[request.method];
      if (!handler) return new Response("not found", { status: 404 });
      return handler(request, { params: Promise.resolve({}) });
    },
  });
});
afterAll(() => h.close());
beforeEach(async () => {
  h.mock.reset();
  (await import("@/lib/ai/resilience")).resetBreakers();
});

async function listConversations() {
  const list = await import("@/app/api/v1/conversations/route");
  const res = await call(list.GET, { cookie, path: "/c?limit=100" });
  return ((await res.json()) as { data: Array<{ id: string; title: string; message_count: number }> }).data;
}

describe("OpenAI-compatible API with the official openai client", () => {
  it("lists models", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain("openai:gpt-4o-mini");
  });

  it("creates a non-streaming completion and records it as a conversation", async () => {
    const completion = await client.chat.completions.create({
      model: "openai:gpt-4o-mini",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "Earlier question" },
        { role: "assistant", content: "Earlier answer" },
        { role: "user", content: "What is two plus two?" },
      ],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toBe('Mock reply: you said "What is two plus two?". This answer streams in several chunks.');
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.completion_tokens).toBe(mockTokenCount(completion.choices[0]!.message.content!));
    const conversationId = (completion as unknown as { conversation_id: string }).conversation_id;
    const recorded = (await listConversations()).find((c) => c.id === conversationId);
    expect(recorded).toMatchObject({ title: "Earlier question", message_count: 4 });
    // The model saw the system prompt and the earlier turns.
    const sent = h.mock.requests.at(-1)?.body as { instructions?: string; input: Array<{ role: string }> };
    expect(JSON.stringify(sent)).toContain("Be terse.");
    expect(sent.input.filter((m) => m.role !== "system").map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("streams chunks with usage, and continues a conversation by conversation_id", async () => {
    const stream = await client.chat.completions.create({
      model: "openai:gpt-4o-mini",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    let conversationId = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
      conversationId ||= (chunk as unknown as { conversation_id?: string }).conversation_id ?? "";
    }
    expect(chunks).toBeGreaterThan(5);
    expect(text).toContain('you said "Stream please"');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(conversationId).toMatch(/^[0-9a-f-]{36}$/);

    await client.chat.completions.create({
      model: "openai:gpt-4o-mini",
      messages: [{ role: "user", content: "And a follow-up" }],
      conversation_id: conversationId,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const sent = h.mock.requests.at(-1)?.body as { input: Array<{ role: string }> };
    expect(sent.input.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect((await listConversations()).find((c) => c.id === conversationId)?.message_count).toBe(4);
  });

  it("a stored call is stopped by the stop endpoint, and closing its stream cancels it (OpenAI's semantics)", async () => {
    const stopRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
    h.mock.settings.reply = Array.from({ length: 80 }, (_, i) => `t${i}`).join(" ");
    h.mock.settings.chunkDelayMs = 40;
    const stream = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "Long one" }], stream: true });
    let text = "";
    let stopped: Response | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (!stopped && text.length > 10) {
        // The call's conversation is the most recently active one.
        const conversationId = (await listConversations())[0]!.id;
        stopped = await call(stopRoute.POST, { cookie, params: { id: conversationId, message_id: chunk.id.replace(/^chatcmpl-/, "") }, method: "POST" });
      }
    }
    expect(stopped?.status).toBe(200);
    expect(((await stopped!.json()) as { status: string }).status).toBe("aborted");
    expect(text).not.toContain("t79");
    await expect.poll(() => h.mock.closedEarly).toBe(1);

    // Closing the stream is a cancel here (there is no resume in OpenAI's protocol).
    const second = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "Another long one" }], stream: true });
    let seen = 0;
    for await (const chunk of second) {
      if ((chunk.choices[0]?.delta.content ?? "") && ++seen === 3) break;
    }
    await expect.poll(() => h.mock.closedEarly, { timeout: 5_000 }).toBe(2);
  });

  it("does not record the call when store is false", async () => {
    const before = (await listConversations()).length;
    const completion = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "off the record" }], store: false });
    expect(completion.choices[0]?.message.content).toContain("off the record");
    expect((await listConversations()).length).toBe(before);
  });

  it("surfaces errors through the client's error classes", async () => {
    await expect(client.chat.completions.create({ model: "nope:model", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({
      status: 422,
      code: "model_not_available",
    });
    // A failure after the reply began cannot be retried or handed to another model: 503.
    h.mock.pushFault({ type: "reset", afterChunks: 5 });
    await expect(client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 503 });

    h.mock.pushFault({ type: "reset", afterChunks: 5 });
    const stream = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "break" }], stream: true });
    await expect(async () => {
      for await (const chunk of stream) void chunk;
    }).rejects.toThrow(/provider/);

    const anonymous = new OpenAI({ apiKey: "bgpt_wrong", baseURL: "http://bot-gpt.test/api/v1", maxRetries: 0, fetch: (i, init) => routes["/api/v1/models"]!.GET!(new Request(i, init), { params: Promise.resolve({}) }) });
    await expect(anonymous.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
