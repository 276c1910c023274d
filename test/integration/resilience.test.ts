import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readUiStream, startHarness, textOf, type Harness } from "../support/harness";

/**
 * The fault-injection suite: every failure the mock LLM can produce, through the real providers
 * and the whole turn — retries, time limits, the fallback chain (OpenAI → Groq → offline) and
 * the circuit breaker.
 */

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let resilience: typeof import("@/lib/ai/resilience");

beforeAll(async () => {
  h = await startHarness({
    OPENAI_API: "chat",
    FALLBACK_MODELS: "groq:llama-3.1-8b-instant",
    MODEL_TTFT_TIMEOUT_MS: "700",
    MODEL_IDLE_TIMEOUT_MS: "700",
    RATE_LIMIT_CHAT_PER_MINUTE: "100000",
  });
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  resilience = await import("@/lib/ai/resilience");
});
afterAll(() => h.close());
beforeEach(() => {
  h.mock.reset();
  resilience.resetBreakers();
});

type Message = { status: string; content: string; model: string | null; provider: string | null; fallback_used: boolean; finish_reason: string | null; error: { code: string } | null };

async function ask(content: string) {
  const { cookie } = await h.signUp();
  const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: content } });
  const body = (await res.json()) as { messages: Message[]; code?: string };
  return { res, body, reply: body.messages?.[1] };
}

const chatCalls = () => h.mock.requests.filter((r) => r.path.endsWith("/chat/completions"));
const providerOf = (path: string) => (path.startsWith("/groq/") ? "groq" : "openai");

describe("fault injection", () => {
  it("429 with Retry-After: waits as told, retries and answers", async () => {
    h.mock.pushFault({ type: "status", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const { res, reply } = await ask("rate limited once");
    expect(res.status).toBe(201);
    expect(reply).toMatchObject({ status: "complete", model: "openai:gpt-4o-mini", fallback_used: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(chatCalls().map((r) => providerOf(r.path))).toEqual(["openai", "openai"]);
  });

  it("500 three times: two retries, then the next model in the chain answers", async () => {
    h.mock.pushFault({ type: "status", status: 500 }, { type: "status", status: 500 }, { type: "status", status: 500 });
    const { res, reply } = await ask("the primary is down");
    expect(res.status).toBe(201);
    expect(reply).toMatchObject({ status: "complete", model: "groq:llama-3.1-8b-instant", provider: "groq", fallback_used: true });
    expect(chatCalls().map((r) => providerOf(r.path))).toEqual(["openai", "openai", "openai", "groq"]);
  });

  it("503 from every provider: the offline model says so, and the breakers skip the dead providers next time", async () => {
    h.mock.pushFault(...Array.from({ length: 6 }, () => ({ type: "status" as const, status: 503 })));
    const { res, reply } = await ask("everything is down");
    expect(res.status).toBe(201);
    expect(reply).toMatchObject({ status: "complete", model: "offline:bot-gpt-offline", provider: "offline", fallback_used: true });
    expect(reply!.content).toContain("The AI model is unavailable right now");
    expect(chatCalls()).toHaveLength(6);
    expect(resilience.breakerStates()).toMatchObject({ openai: { state: "open" }, groq: { state: "open" } });

    // Open breakers: the next turn goes straight to the offline model without waiting on anyone.
    const before = chatCalls().length;
    const started = Date.now();
    const next = await ask("still down?");
    expect(next.reply).toMatchObject({ model: "offline:bot-gpt-offline", fallback_used: true });
    expect(next.reply!.content).toContain("circuit open");
    expect(chatCalls()).toHaveLength(before);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("a connection reset mid-stream: the partial reply is saved as error and the stream ends with an error part, no retry", async () => {
    h.mock.pushFault({ type: "reset", afterChunks: 4 });
    const { cookie } = await h.signUp();
    const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "cut me off", stream: true } });
    const chunks = await readUiStream(res);
    const partial = textOf(chunks);
    expect(partial.length).toBeGreaterThan(0);
    expect(chunks.at(-1)).toMatchObject({ type: "error" });
    expect(chunks.find((c) => c.type === "data-problem")).toMatchObject({ data: { code: "upstream_unavailable" } });
    expect(chatCalls()).toHaveLength(1);

    const start = chunks[0] as unknown as { messageMetadata: { conversation_id: string } };
    const conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
    const stored = (await (await call(conversationRoute.GET, { cookie, params: { id: start.messageMetadata.conversation_id } })).json()) as { messages: Message[] };
    expect(stored.messages[1]).toMatchObject({ status: "error", content: partial, error: { code: "upstream_unavailable" } });

    // Retrying from the client continues the conversation.
    const retry = await call(messagesRoute.POST, { cookie, params: { id: start.messageMetadata.conversation_id }, body: { content: "cut me off" } });
    expect(retry.status).toBe(201);
    expect(((await retry.json()) as { assistant_message: Message }).assistant_message.status).toBe("complete");
  });

  it("a slow first byte on every attempt: each times out, then the next model answers", async () => {
    h.mock.pushFault(...Array.from({ length: 3 }, () => ({ type: "slow-first-byte" as const, delayMs: 2_000 })));
    const started = Date.now();
    const { reply } = await ask("slow model");
    expect(reply).toMatchObject({ status: "complete", model: "groq:llama-3.1-8b-instant", fallback_used: true });
    expect(chatCalls().map((r) => providerOf(r.path))).toEqual(["openai", "openai", "openai", "groq"]);
    // Three 0.7 s time-outs and two back-offs, not three 2 s waits.
    expect(Date.now() - started).toBeLessThan(6_000);
    // Each timed-out request was cancelled (the mock sees the client leave when its delay ends).
    await expect.poll(() => h.mock.closedEarly, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
  });

  it("a hang mid-stream: the idle limit ends it, the partial text is kept and the provider request is cancelled", async () => {
    h.mock.pushFault({ type: "stall", afterChunks: 4 });
    const { cookie } = await h.signUp();
    const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "hang after a few words" } });
    // Without streaming the caller gets the problem; both messages are saved.
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: "upstream_timeout" });
    const listRoute = await import("@/app/api/v1/conversations/route");
    const list = (await (await call(listRoute.GET, { cookie })).json()) as { data: Array<{ id: string }> };
    const conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
    const stored = (await (await call(conversationRoute.GET, { cookie, params: { id: list.data[0]!.id } })).json()) as { messages: Message[] };
    const reply = stored.messages[1];
    expect(reply).toMatchObject({ status: "error", model: "openai:gpt-4o-mini", fallback_used: false, error: { code: "upstream_timeout" } });
    expect(reply!.content.length).toBeGreaterThan(0);
    expect(chatCalls()).toHaveLength(1);
    await expect.poll(() => h.mock.closedEarly).toBeGreaterThanOrEqual(1);
  });

  it("a request the provider refuses as invalid is not retried and does not count against its breaker", async () => {
    h.mock.pushFault({ type: "status", status: 400, message: "bad request" });
    const { reply } = await ask("invalid for openai");
    expect(reply).toMatchObject({ status: "complete", model: "groq:llama-3.1-8b-instant", fallback_used: true });
    expect(chatCalls().map((r) => providerOf(r.path))).toEqual(["openai", "groq"]);
    expect(resilience.breakerStates().openai).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });
});
