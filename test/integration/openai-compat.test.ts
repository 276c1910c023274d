import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockTokenCount } from "../mock-llm/server";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let client: OpenAI;
let cookie: string;
let routes: Record<string, Record<string, (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>>>;

const TINY = "openai:tiny-2k";

beforeAll(async () => {
  h = await startHarness({
    MODEL_OVERRIDES: JSON.stringify({ [TINY]: { context_window: 2_048, max_output_tokens: 256, tokenizer: "o200k", input_per_million: 1, output_per_million: 2 } }),
  });
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
      status: 404,
      code: "model_not_found",
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
    // /models errors carry OpenAI's error member too, so the client reports our message and code.
    await expect(anonymous.models.list()).rejects.toMatchObject({ code: "invalid_api_key", type: "authentication_error", message: expect.stringContaining("API key") });
  });
});

describe("OpenAI-compatible API: requests answered as OpenAI answers them", () => {
  const ask = (body: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>) =>
    client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "hi" }], store: false, ...body });

  it("answers invalid requests 400 invalid_request_error, naming the field", async () => {
    const error = await ask({ temperature: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error", param: "temperature", code: "validation_failed" });
    await expect(ask({ messages: [{ role: "assistant", content: "no question" }] })).rejects.toMatchObject({ status: 400, type: "invalid_request_error" });
    expect(h.mock.requests).toHaveLength(0);
  });

  it("enforces MAX_MESSAGE_CHARS on every message, strings and text parts alike", async () => {
    const { env } = await import("@/lib/env");
    const long = "x".repeat(env.MAX_MESSAGE_CHARS + 1);
    await expect(ask({ messages: [{ role: "user", content: long }] })).rejects.toMatchObject({ status: 400, param: "messages.0.content" });
    await expect(ask({ messages: [{ role: "system", content: long }, { role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 400, param: "messages.0.content" });
    const half = "y".repeat(Math.ceil(env.MAX_MESSAGE_CHARS / 2) + 1);
    const parts: OpenAI.ChatCompletionContentPartText[] = [{ type: "text", text: half }, { type: "text", text: half }];
    await expect(ask({ messages: [{ role: "user", content: parts }] })).rejects.toMatchObject({ status: 400, param: "messages.0.content" });
    expect(h.mock.requests).toHaveLength(0);
  });

  it("joins text parts with a blank line between them, and refuses parts it cannot read", async () => {
    await ask({ messages: [{ role: "user", content: [{ type: "text", text: "Hello" }, { type: "text", text: "world" }] }] });
    const sent = JSON.stringify(h.mock.requests.at(-1)?.body);
    expect(sent).toContain(JSON.stringify("Hello\n\nworld").slice(1, -1));
    expect(sent).not.toContain("Helloworld");
    const image: OpenAI.ChatCompletionContentPart = { type: "image_url", image_url: { url: "https://example.test/cat.png" } };
    await expect(ask({ messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, image] }] })).rejects.toMatchObject({ status: 400, type: "invalid_request_error" });
  });

  it("answers input beyond the model's window with 400 context_length_exceeded instead of cutting it", async () => {
    const words = Array.from({ length: 2_500 }, (_, i) => `w${i}`).join(" ");
    const error = await ask({ model: TINY, messages: [{ role: "user", content: "Earlier" }, { role: "assistant", content: words }, { role: "user", content: "Summarize that" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "context_length_exceeded", type: "invalid_request_error", param: "messages", message: expect.stringContaining("2,048-token context window") });
    // Fits without max_tokens, not with it.
    const some = Array.from({ length: 600 }, (_, i) => `w${i}`).join(" ");
    await expect(ask({ model: TINY, max_tokens: 1_800, messages: [{ role: "user", content: some }] })).rejects.toMatchObject({ status: 400, code: "context_length_exceeded" });
    // Stored calls are checked the same way, before anything is saved.
    await expect(ask({ model: TINY, store: true, messages: [{ role: "user", content: words }] })).rejects.toMatchObject({ code: "context_length_exceeded" });
    expect(h.mock.requests).toHaveLength(0);

    // What fits is sent whole.
    const fits = await ask({ model: TINY, messages: [{ role: "user", content: "Earlier" }, { role: "assistant", content: some }, { role: "user", content: "Summarize that" }] });
    expect(fits.choices[0]?.message.content).toContain("Summarize that");
    expect(JSON.stringify(h.mock.requests.at(-1)?.body)).toContain("w599");
  });

  it("reports a provider outage as the provider's error, not as the offline model's text", async () => {
    for (let i = 0; i < 3; i++) h.mock.pushFault({ type: "status", status: 503, retryAfterSeconds: 0 });
    const error = await ask({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 503, code: "upstream_unavailable", type: "server_error" });

    (await import("@/lib/ai/resilience")).resetBreakers();
    for (let i = 0; i < 3; i++) h.mock.pushFault({ type: "status", status: 503, retryAfterSeconds: 0 });
    const stream = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true, store: false });
    let text = "";
    await expect(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    }).rejects.toThrow(/provider/);
    expect(text).toBe("");
  });

  it("names the fallback model that answered, with fallback_used", async () => {
    const { env } = await import("@/lib/env");
    const saved = env.FALLBACK_MODELS;
    env.FALLBACK_MODELS = ["groq:llama-3.1-8b-instant"];
    try {
      h.mock.pushFault({ type: "status", status: 400, message: "refused" });
      const completion = await ask({});
      expect(completion).toMatchObject({ model: "groq:llama-3.1-8b-instant", fallback_used: true });
      expect(completion.choices[0]?.message.content).toContain('you said "hi"');

      h.mock.pushFault({ type: "status", status: 400, message: "refused" });
      const stream = await client.chat.completions.create({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true });
      let last: unknown;
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) last = chunk;
      expect(last).toMatchObject({ model: "groq:llama-3.1-8b-instant", fallback_used: true });
      expect(await ask({})).toMatchObject({ model: "openai:gpt-4o-mini", fallback_used: false });
    } finally {
      env.FALLBACK_MODELS = saved;
    }
  });
});
