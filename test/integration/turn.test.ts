import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readUiStream, startHarness, textOf, type Harness } from "../support/harness";

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let stopRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");

beforeAll(async () => {
  h = await startHarness();
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  stopRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
});
afterAll(() => h.close());
beforeEach(async () => {
  h.mock.reset();
  (await import("@/lib/ai/resilience")).resetBreakers();
});

async function newConversation(cookie: string, model = "openai:gpt-4o-mini") {
  const res = await call(conversationsRoute.POST, { cookie, body: { model } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: { id: string } }).conversation.id;
}

async function history(cookie: string, id: string) {
  const res = await call(conversationRoute.GET, { cookie, params: { id } });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    conversation: { title: string; message_count: number; total_tokens: number };
    messages: Array<Record<string, unknown> & { seq: number; role: string; content: string; status: string }>;
  };
}

const postMessage = (cookie: string, id: string, body: unknown, signal?: AbortSignal) =>
  call(messagesRoute.POST, { cookie, params: { id }, body, signal });

describe("a chat turn", () => {
  it("streams the UI message stream and saves both messages with usage and timings", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const res = await postMessage(cookie, id, { content: "Hello there, model", stream: true });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("x-accel-buffering")).toBe("no");

    const chunks = await readUiStream(res);
    const start = chunks[0] as { type: string; messageMetadata: Record<string, string> };
    expect(start.type).toBe("start");
    expect(start.messageMetadata.conversation_id).toBe(id);
    expect(chunks.filter((c) => c.type === "text-delta").length).toBeGreaterThan(3);
    expect(textOf(chunks)).toBe('Mock reply: you said "Hello there, model". This answer streams in several chunks.');
    const finish = chunks.at(-1) as { type: string; messageMetadata: Record<string, unknown> };
    expect(finish.type).toBe("finish");
    expect(finish.messageMetadata).toMatchObject({ model: "openai:gpt-4o-mini", fallback_used: false, status: "complete" });
    expect(finish.messageMetadata.prompt_tokens).toBeGreaterThan(0);
    expect(finish.messageMetadata.completion_tokens).toBe(18);

    // The real OpenAI provider called the Responses API of the mock.
    expect(h.mock.requests.at(-1)?.path).toBe("/v1/responses");

    const { conversation, messages } = await history(cookie, id);
    expect(conversation.title).toBe("Hello there, model");
    expect(messages.map((m) => [m.seq, m.role, m.status])).toEqual([
      [1, "user", "complete"],
      [2, "assistant", "complete"],
    ]);
    const assistant = messages[1]!;
    expect(assistant.id).toBe(start.messageMetadata.assistant_message_id);
    expect(assistant.content).toBe(textOf(chunks));
    expect(assistant).toMatchObject({ provider: "openai", model: "openai:gpt-4o-mini", finish_reason: "stop", completion_tokens: 18 });
    expect(assistant.latency_ms).toEqual(expect.any(Number));
    expect(assistant.ttft_ms).toEqual(expect.any(Number));
    expect(Number(assistant.cost_usd)).toBeGreaterThan(0);
    expect(conversation.total_tokens).toBe(Number(assistant.prompt_tokens) + 18);
  });

  it("sends the stored history to the model on the next turn", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    await postMessage(cookie, id, { content: "first question" });
    const res = await postMessage(cookie, id, { content: "second question" });
    expect(res.status).toBe(201);
    const sent = h.mock.requests.at(-1)?.body.input as Array<{ role: string; content: unknown }>;
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(sent[0])).toContain("first question");
    expect(JSON.stringify(sent[2])).toContain("second question");
  });

  it("returns JSON when not streaming", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const res = await postMessage(cookie, id, { content: "json please" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user_message: { seq: number }; assistant_message: { seq: number; status: string; content: string } };
    expect(body.user_message.seq).toBe(1);
    expect(body.assistant_message).toMatchObject({ seq: 2, status: "complete" });
    expect(body.assistant_message.content).toContain("json please");
  });

  it("works over Chat Completions and Groq's x_groq usage", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie, "groq:llama-3.1-8b-instant");
    const res = await postMessage(cookie, id, { content: "groq turn" });
    const body = (await res.json()) as { assistant_message: Record<string, unknown> };
    expect(h.mock.requests.at(-1)?.path).toBe("/groq/openai/v1/chat/completions");
    expect(body.assistant_message).toMatchObject({ provider: "groq", status: "complete" });
    expect(body.assistant_message.completion_tokens).toBeGreaterThan(0);
    expect(body.assistant_message.prompt_tokens).toBeGreaterThan(0);
  });

  it("keeps generating when the client disconnects, and saves the whole reply", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    h.mock.settings.chunkDelayMs = 40;
    const controller = new AbortController();
    const res = await postMessage(cookie, id, { content: "a long answer please", stream: true }, controller.signal);
    let deltas = 0;
    await readUiStream(res, (chunk) => {
      if (chunk.type === "text-delta" && ++deltas === 3) controller.abort();
    }).catch(() => undefined);

    await expect.poll(async () => (await history(cookie, id)).messages[1]?.status, { timeout: 10_000 }).toBe("complete");
    const assistant = (await history(cookie, id)).messages[1]!;
    expect(assistant.content).toBe('Mock reply: you said "a long answer please". This answer streams in several chunks.');
    expect(h.mock.closedEarly).toBe(0);
  });

  it("stop: aborts the provider call and saves the partial reply as aborted", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    h.mock.settings.chunkDelayMs = 80;
    const res = await postMessage(cookie, id, { content: "a long answer please", stream: true });
    let stopped: Promise<Response> | undefined;
    let assistantId = "";
    let deltas = 0;
    const chunks = await readUiStream(res, (chunk) => {
      if (chunk.type === "start") assistantId = (chunk.messageMetadata as { assistant_message_id: string }).assistant_message_id;
      if (chunk.type === "text-delta" && ++deltas === 3) {
        stopped = call(stopRoute.POST, { cookie, params: { id, message_id: assistantId }, method: "POST" });
      }
    });
    const stopResponse = await stopped!;
    expect(stopResponse.status).toBe(200);
    const stoppedMessage = (await stopResponse.json()) as { status: string; content: string; finish_reason: string };
    expect(stoppedMessage).toMatchObject({ status: "aborted", finish_reason: "aborted" });
    // The open stream ends with an abort part, after the text shown so far.
    expect(chunks.at(-1)).toMatchObject({ type: "abort" });
    expect(stoppedMessage.content).toBe(textOf(chunks));
    expect(stoppedMessage.content.length).toBeGreaterThan(0);
    expect(stoppedMessage.content).not.toContain("several chunks.");
    await expect.poll(() => h.mock.closedEarly).toBe(1);
  });

  it("on provider failure mid-stream, saves the partial reply as error and ends with an error part", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    h.mock.pushFault({ type: "reset", afterChunks: 7 });
    const res = await postMessage(cookie, id, { content: "this will break", stream: true });
    const chunks = await readUiStream(res);
    const partial = textOf(chunks);
    expect(partial.length).toBeGreaterThan(0);
    expect(chunks.at(-1)).toMatchObject({ type: "error" });
    const problem = chunks.find((c) => c.type === "data-problem") as { data: { code: string } } | undefined;
    expect(problem?.data.code).toBe("upstream_unavailable");

    const { messages } = await history(cookie, id);
    expect(messages[0]).toMatchObject({ role: "user", status: "complete", content: "this will break" });
    expect(messages[1]).toMatchObject({ role: "assistant", status: "error", content: partial });
    expect((messages[1]!.error as { code: string }).code).toBe("upstream_unavailable");
  });

  it("a provider failing before any token is retried, then the offline model says it is unavailable; its wording never leaks", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    h.mock.pushFault(...Array.from({ length: 3 }, () => ({ type: "status" as const, status: 500, message: "secret internals sk-live-123" })));
    const res = await postMessage(cookie, id, { content: "keep me" });
    expect(res.status).toBe(201);
    const { assistant_message: reply } = (await res.json()) as { assistant_message: Record<string, unknown> & { content: string } };
    expect(reply).toMatchObject({ status: "complete", model: "offline:bot-gpt-offline", fallback_used: true });
    expect(reply.content).toContain("The AI model is unavailable right now");
    expect(reply.content).not.toContain("sk-live-123");
    expect(h.mock.requests).toHaveLength(3);
  });

  it("a provider failing mid-reply answers 502/503 problem+json and keeps the user message and the partial reply", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    // The Responses API opens with four lifecycle events; two text deltas follow before the reset.
    h.mock.pushFault({ type: "reset", afterChunks: 6 });
    const res = await postMessage(cookie, id, { content: "keep me" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 503, code: "upstream_unavailable" });

    const { messages } = await history(cookie, id);
    expect(messages.map((m) => [m.seq, m.role, m.status])).toEqual([
      [1, "user", "complete"],
      [2, "assistant", "error"],
    ]);
    expect(messages[1]!.content.length).toBeGreaterThan(0);
  });

  it("a crash mid-stream leaves a row that start-up marks interrupted, keeping its partial text", async () => {
    const { user, cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { appendMessage, savePartialContent, markInterruptedMessages } = await import("@/lib/db/queries/messages");
    const { getDb } = await import("@/lib/db/client");
    await appendMessage({ conversationId: id, userId: user.id, role: "user", content: "hi" });
    // What a process killed mid-reply leaves behind: a streaming row with its last flushed text.
    // A worker id of this run's own: a shared database may hold other runs' rows.
    const deadWorker = `dead-host-${crypto.randomUUID()}:3000`;
    const row = await appendMessage({
      conversationId: id, userId: user.id, role: "assistant", content: "", status: "streaming", workerId: deadWorker,
    });
    await savePartialContent({ id: row.id, content: "half an ans" });
    const other = await appendMessage({
      conversationId: id, userId: user.id, role: "assistant", content: "", status: "streaming", workerId: "live-host:3000",
    });

    // At least this run's row; start-up also sweeps anyone's rows left untouched for a minute,
    // which a shared database may hold from an earlier, killed run.
    expect(await markInterruptedMessages(await getDb(), { workerId: deadWorker })).toBeGreaterThanOrEqual(1);
    const { messages } = await history(cookie, id);
    expect(messages.find((m) => m.id === row.id)).toMatchObject({ status: "interrupted", content: "half an ans" });
    // Another instance's live stream is not touched.
    expect(messages.find((m) => m.id === other.id)).toMatchObject({ status: "streaming" });
  });

  it("uses the offline model, labelled as such, when asked for it", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie, "offline:bot-gpt-offline");
    const res = await postMessage(cookie, id, { content: "are you real?", stream: true });
    const chunks = await readUiStream(res);
    expect(textOf(chunks)).toContain("built-in offline model, not an AI");
    expect(chunks.at(-1)).toMatchObject({ type: "finish", messageMetadata: { model: "offline:bot-gpt-offline" } });
  });
});

describe("stream keep-alive and model checks", () => {
  it("sends SSE comment heartbeats while the model is slow to answer", async () => {
    const { streamTurn } = await import("@/lib/chat/respond");
    const { getConversationOrThrow } = await import("@/lib/db/queries/conversations");
    const { user, cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const conversation = await getConversationOrThrow({ id, userId: user.id });
    h.mock.pushFault({ type: "slow-first-byte", delayMs: 400 });
    const response = await streamTurn(
      { userId: user.id, conversation, content: "slow one" },
      { heartbeatMs: 50 },
    );
    const raw = await response.text();
    const heartbeats = raw.split(": heartbeat\n\n").length - 1;
    expect(heartbeats).toBeGreaterThanOrEqual(3);
    // The comments come before the first text delta, while the model is still silent.
    expect(raw.indexOf(": heartbeat")).toBeLessThan(raw.indexOf('"type":"text-delta"'));
    expect(raw).toContain('"type":"finish"');
  });

  it("answers 422 without saving anything when the conversation's model is no longer available", async () => {
    const { user, cookie } = await h.signUp();
    const { createConversation } = await import("@/lib/db/queries/conversations");
    const conversation = await createConversation({ userId: user.id, title: "t", mode: "open", model: "acme:gone", systemPrompt: null });
    const res = await postMessage(cookie, conversation.id, { content: "hello?", stream: true });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("model_not_available");
    expect((await history(cookie, conversation.id)).messages).toEqual([]);
  });
});
