import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readUiStream, startHarness, textOf, type Harness } from "../support/harness";

/**
 * Context budgets, summaries, usage, budgets and the response cache, end to end through the
 * route handlers and the real OpenAI provider against the mock LLM — which counts every request's
 * tokens exactly (o200k) and refuses, like OpenAI, any request over its window.
 */

const SMALL = "openai:small-8k";
const WINDOW = 8_192;

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let usageRoute: typeof import("@/app/api/v1/usage/route");
let completionsRoute: typeof import("@/app/api/v1/chat/completions/route");
let apiKeysRoute: typeof import("@/app/api/v1/api-keys/route");
let settleSummaries: typeof import("@/lib/chat/summarize").settleSummaries;
let countTextTokens: typeof import("@/lib/context/tokens").countTextTokens;
let setUserBudget: typeof import("@/lib/db/queries/budgets").setUserBudget;
let setApiKeyBudget: typeof import("@/lib/db/queries/budgets").setApiKeyBudget;

beforeAll(async () => {
  h = await startHarness({
    OPENAI_API: "chat",
    RATE_LIMIT_CHAT_PER_MINUTE: "100000",
    RATE_LIMIT_PER_MINUTE: "100000",
    MODEL_OVERRIDES: JSON.stringify({
      [SMALL]: {
        context_window: WINDOW,
        max_output_tokens: 1_024,
        tokenizer: "o200k",
        input_per_million: 1,
        cached_input_per_million: 0.25,
        output_per_million: 4,
      },
    }),
  });
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  usageRoute = await import("@/app/api/v1/usage/route");
  completionsRoute = await import("@/app/api/v1/chat/completions/route");
  apiKeysRoute = await import("@/app/api/v1/api-keys/route");
  ({ settleSummaries } = await import("@/lib/chat/summarize"));
  ({ countTextTokens } = await import("@/lib/context/tokens"));
  ({ setUserBudget, setApiKeyBudget } = await import("@/lib/db/queries/budgets"));
});
afterAll(() => h.close());
beforeEach(() => {
  h.mock.reset();
  h.mock.settings.chunkDelayMs = 0;
});

type Message = Record<string, unknown> & {
  seq: number;
  role: string;
  content: string;
  status: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number | null;
  cost_usd: number;
  cached: boolean;
  usage_estimated: boolean;
  context: { tokens: number; window: number; summary_through_seq: number | null; omitted_messages: number } | null;
};
type Conversation = { id: string; total_tokens: number; total_cost_usd: number; summary: string | null; summary_through_seq: number | null; message_count: number };

async function newConversation(cookie: string, body: Record<string, unknown> = {}) {
  const res = await call(conversationsRoute.POST, { cookie, body: { model: SMALL, ...body } });
  expect(res.status).toBe(201);
  return (await res.json()) as { conversation: Conversation; messages: Message[] };
}

async function send(cookie: string, id: string, content: string) {
  const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content } });
  return { res, body: (await res.json()) as { user_message: Message; assistant_message: Message } & Record<string, unknown> };
}

async function conversationOf(cookie: string, id: string) {
  const res = await call(conversationRoute.GET, { cookie, params: { id } });
  expect(res.status).toBe(200);
  return (await res.json()) as { conversation: Conversation; messages: Message[] };
}

async function usage(cookie: string, groupBy: "day" | "model" = "model") {
  const res = await call(usageRoute.GET, { cookie, path: `/api/v1/usage?group_by=${groupBy}` });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    data: Array<Record<string, number | string>>;
    totals: Record<string, number>;
    by_kind: Record<"chat" | "summary" | "embedding", Record<string, number>>;
    budget: { tokens_per_day: { limit: number | null; used: number; resets_at: string } };
  };
}

/** A distinct ~300-token user message for turn `n`. */
function longMessage(n: number): string {
  const facts = Array.from({ length: 24 }, (_, i) => `Fact ${n}.${i}: the ${["red", "green", "blue"][i % 3]} valve ${n * 31 + i} opens at ${i * 7} bar.`);
  return `Turn ${n}. ${facts.join(" ")} Please remember all of this.`;
}

describe("a long conversation on an 8k-token model", () => {
  it("never sends a request over the window, summarizes what falls out and sends far less than the full history", async () => {
    const { cookie } = await newUser();
    const { conversation } = await newConversation(cookie);
    h.mock.settings.contextWindow = WINDOW;
    const turns = 40;
    let naive = 0;
    let history = 0;
    for (let n = 1; n <= turns; n++) {
      const content = longMessage(n);
      const { res, body } = await send(cookie, conversation.id, content);
      expect(res.status, JSON.stringify(body)).toBe(201);
      const reply = body.assistant_message;
      expect(reply.status).toBe("complete");
      // Naive: every turn resends the whole history (4 framing tokens a message, 3 to prime the reply).
      history += countTextTokens(content, "o200k") + 4;
      naive += history + 3;
      history += countTextTokens(reply.content, "o200k") + 4;
      // Summaries are written after the reply; wait for them so the run is deterministic.
      await settleSummaries();
    }

    const chatCalls = h.mock.requests.filter((r) => r.path.endsWith("/chat/completions") && !isSummaryCall(r.body));
    expect(chatCalls).toHaveLength(turns);
    // What the mock received, counted exactly: never over the window with the output reserved.
    for (const request of chatCalls) {
      const maxTokens = Number(request.body.max_tokens ?? request.body.max_completion_tokens ?? 0);
      expect(maxTokens).toBeGreaterThan(0);
      expect(request.promptTokens + maxTokens).toBeLessThanOrEqual(WINDOW);
    }
    const sent = chatCalls.reduce((sum, r) => sum + r.promptTokens, 0);
    expect(naive).toBeGreaterThan(WINDOW * 10);
    expect(sent / naive).toBeLessThan(0.35);

    const { conversation: after, messages } = await conversationOf(cookie, conversation.id);
    expect(after.summary_through_seq).toBeGreaterThan(20);
    expect(after.summary).toEqual(expect.any(String));
    const last = messages.at(-1)!;
    // The request behind the last reply: the server's count matches what the provider received.
    expect(last.context).toMatchObject({ window: WINDOW, omitted_messages: 0 });
    expect(last.context!.summary_through_seq).toBeGreaterThan(0);
    expect(last.context!.tokens).toBe(chatCalls.at(-1)!.promptTokens);
    expect(last.prompt_tokens).toBe(chatCalls.at(-1)!.promptTokens);
    // The summary leads the request, right after the system prompt.
    const lastMessages = chatCalls.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    expect(lastMessages[0]).toMatchObject({ role: "system", content: expect.stringContaining("Summary of the earlier conversation") });

    // Summaries cost tokens and count like everything else.
    const report = await usage(cookie);
    expect(report.by_kind.summary.requests).toBeGreaterThan(0);
    expect(report.by_kind.chat.requests).toBe(turns);
    // The conversation's totals include its summaries.
    const { conversation: settled } = await conversationOf(cookie, conversation.id);
    expect(settled.total_tokens).toBe(report.totals.total_tokens);
    expect(settled.total_cost_usd).toBeCloseTo(report.totals.cost_usd!, 8);
  }, 120_000);
});

function isSummaryCall(body: Record<string, unknown>): boolean {
  const messages = (body.messages as Array<{ role: string; content: string }> | undefined) ?? [];
  return messages.some((m) => m.role === "system" && m.content.includes("running summary of a conversation"));
}

async function newUser() {
  return h.signUp();
}

describe("usage and cost per message", () => {
  it("records the provider's cached prompt tokens and prices them at the cached rate", async () => {
    const { cookie } = await newUser();
    h.mock.settings.cachedPromptTokens = 10;
    const { messages } = await newConversation(cookie, { first_message: "Hello with a cache" });
    const reply = messages[1]!;
    expect(reply.cached_tokens).toBe(10);
    expect(reply.usage_estimated).toBe(false);
    const expected = ((reply.prompt_tokens - 10) * 1 + 10 * 0.25 + reply.completion_tokens * 4) / 1_000_000;
    expect(reply.cost_usd).toBeCloseTo(expected, 10);
  });

  it("estimates and flags usage when the provider reports none", async () => {
    const { cookie } = await newUser();
    h.mock.settings.omitUsage = true;
    const { conversation, messages } = await newConversation(cookie, { first_message: "Count this for me" });
    const reply = messages[1]!;
    expect(reply.usage_estimated).toBe(true);
    // Our count of the request is exact for this tokenizer: the same number the provider would bill.
    expect(reply.prompt_tokens).toBe(h.mock.requests.at(-1)!.promptTokens);
    expect(reply.completion_tokens).toBe(countTextTokens(reply.content, "o200k"));
    expect(reply.cost_usd).toBeGreaterThan(0);
    const { conversation: after } = await conversationOf(cookie, conversation.id);
    expect(after.total_tokens).toBe(reply.prompt_tokens + reply.completion_tokens);
  });
});

describe("the response cache", () => {
  it("answers a repeated temperature-0 question from cache: a normal message, streamed, at zero cost", async () => {
    const { cookie } = await newUser();
    const question = `What is the boiling point of water? ${crypto.randomUUID()}`;
    const first = await newConversation(cookie, { first_message: question, temperature: 0 });
    expect(first.messages[1]).toMatchObject({ cached: false, status: "complete" });
    expect(h.mock.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);

    const second = await call(conversationsRoute.POST, { cookie, body: { model: SMALL, first_message: question, temperature: 0, stream: true } });
    expect(second.status).toBe(201);
    const chunks = await readUiStream(second);
    expect(chunks.filter((c) => c.type === "text-delta").length).toBeGreaterThan(3);
    expect(textOf(chunks)).toBe(first.messages[1]!.content);
    const finish = chunks.at(-1) as { type: string; messageMetadata: Record<string, unknown> };
    expect(finish).toMatchObject({ type: "finish", messageMetadata: { prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 } });
    // No second model call.
    expect(h.mock.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);

    const start = chunks[0] as unknown as { messageMetadata: { conversation_id: string } };
    const { conversation, messages } = await conversationOf(cookie, start.messageMetadata.conversation_id);
    expect(messages[1]).toMatchObject({ cached: true, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, status: "complete", model: SMALL });
    expect(conversation.total_tokens).toBe(0);
  });

  it("does not cache sampled replies, and the OpenAI-compatible endpoint shares the cache at temperature 0", async () => {
    const { cookie } = await newUser();
    const question = `Name a colour. ${crypto.randomUUID()}`;
    await newConversation(cookie, { first_message: question });
    await newConversation(cookie, { first_message: question });
    expect(h.mock.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(2);

    h.mock.reset();
    const body = { model: SMALL, temperature: 0, store: false, messages: [{ role: "user", content: question }] };
    const a = (await (await call(completionsRoute.POST, { cookie, body })).json()) as { usage: Record<string, number>; choices: Array<{ message: { content: string } }> };
    const b = (await (await call(completionsRoute.POST, { cookie, body })).json()) as { usage: Record<string, number>; choices: Array<{ message: { content: string } }> };
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(h.mock.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
  });
});

describe("budgets", () => {
  it("refuses a user over the daily token budget with 429 budget_exceeded before calling the model or saving anything", async () => {
    const { cookie, user } = await newUser();
    await setUserBudget({ user: user.id, tokensPerDay: 20 });
    const { conversation, messages } = await newConversation(cookie, { first_message: "A first question that uses the budget" });
    expect(messages[1]!.status).toBe("complete");
    const calls = h.mock.requests.length;

    const { res, body } = await send(cookie, conversation.id, "And another one");
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    expect(body).toMatchObject({ code: "budget_exceeded", status: 429, limit_type: "tokens_per_day", limit: 20, resets_at: tomorrow.toISOString() });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(86_400);
    expect(h.mock.requests.length).toBe(calls);
    expect((await conversationOf(cookie, conversation.id)).conversation.message_count).toBe(2);

    // Creating a conversation without a message still works; with one, it is refused too.
    expect((await call(conversationsRoute.POST, { cookie, body: { model: SMALL } })).status).toBe(201);
    expect((await call(conversationsRoute.POST, { cookie, body: { model: SMALL, first_message: "hi" } })).status).toBe(429);
    const report = await usage(cookie);
    expect(report.budget.tokens_per_day).toMatchObject({ limit: 20, resets_at: tomorrow.toISOString() });
    expect(report.budget.tokens_per_day.used).toBeGreaterThanOrEqual(20);
  });

  it("holds an API key to its own budget while the owner's session carries on", async () => {
    const { cookie, user } = await newUser();
    const created = await call(apiKeysRoute.POST, { cookie, body: { name: "metered", scopes: ["conversations:read", "conversations:write"] } });
    const key = (await created.json()) as { id: string; key: string };
    await setApiKeyBudget({ id: key.id, usdPerMonth: 0.000001 });
    const bearer = { authorization: `Bearer ${key.key}` };
    const first = await call(completionsRoute.POST, { headers: bearer, body: { model: SMALL, messages: [{ role: "user", content: "spend a little" }] } });
    expect(first.status).toBe(200);
    const refused = await call(completionsRoute.POST, { headers: bearer, body: { model: SMALL, messages: [{ role: "user", content: "spend more" }] } });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "budget_exceeded", budget: "api_key", limit_type: "usd_per_month" });
    expect(user.id).toBeTruthy();
    const bySession = await newConversation(cookie, { first_message: "the browser still works" });
    expect(bySession.messages[1]!.status).toBe("complete");
  });
});
