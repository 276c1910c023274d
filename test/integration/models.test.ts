import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Which models a caller may use: only those GET /models lists (the catalog, MODEL_OVERRIDES,
 * Ollama's own list, or ALLOWED_MODELS when the operator sets it); an unpriced model is refused
 * under a USD budget; a conversation whose model left the list stays readable but cannot take a
 * new turn. Through the real handlers, with the real providers against the mock LLM.
 */

let h: Harness;
let env: typeof import("@/lib/env").env;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let completionsRoute: typeof import("@/app/api/v1/chat/completions/route");
let modelsRoute: typeof import("@/app/api/v1/models/route");
let setUserBudget: typeof import("@/lib/db/queries/budgets").setUserBudget;

const FINETUNE = "openai:my-finetune";

beforeAll(async () => {
  h = await startHarness({
    RATE_LIMIT_CHAT_PER_MINUTE: "100000",
    MODEL_OVERRIDES: JSON.stringify({ [FINETUNE]: { context_window: 16_384, input_per_million: 3, output_per_million: 12 } }),
  });
  ({ env } = await import("@/lib/env"));
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  completionsRoute = await import("@/app/api/v1/chat/completions/route");
  modelsRoute = await import("@/app/api/v1/models/route");
  ({ setUserBudget } = await import("@/lib/db/queries/budgets"));
});
afterAll(() => h.close());

const saved: Partial<Record<"ALLOWED_MODELS" | "FALLBACK_MODELS", string[]>> = {};
beforeEach(() => {
  h.mock.reset();
  saved.ALLOWED_MODELS = env.ALLOWED_MODELS;
  saved.FALLBACK_MODELS = env.FALLBACK_MODELS;
});
afterEach(() => {
  env.ALLOWED_MODELS = saved.ALLOWED_MODELS!;
  env.FALLBACK_MODELS = saved.FALLBACK_MODELS!;
});

type Problem = { code: string; status: number; detail: string; model?: string };

async function listed(cookie: string) {
  const res = await call(modelsRoute.GET, { cookie });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Array<{ id: string; priced: boolean; default: boolean }> }).data;
}

async function conversationCount(cookie: string) {
  const res = await call(conversationsRoute.GET, { cookie, path: "/c?limit=100" });
  return ((await res.json()) as { data: unknown[] }).data.length;
}

const completion = (cookie: string, model: string) =>
  call(completionsRoute.POST, { cookie, body: { model, messages: [{ role: "user", content: "hi" }] } });

describe("model choice", () => {
  it("refuses a model the server does not list with 404 model_not_found wherever one is chosen, calling nothing", async () => {
    const { cookie } = await h.signUp();
    expect((await listed(cookie)).map((m) => m.id)).not.toContain("openai:o1-pro");

    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:o1-pro", first_message: "expensive?" } });
    expect(created.status).toBe(404);
    expect(await created.json()).toMatchObject({ code: "model_not_found", model: "openai:o1-pro" });
    expect((await call(conversationsRoute.POST, { cookie, body: { model: "openai:o3-pro" } })).status).toBe(404);

    const ok = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
    const { conversation } = (await ok.json()) as { conversation: { id: string } };
    const patched = await call(conversationRoute.PATCH, { cookie, params: { id: conversation.id }, body: { model: "openai:o1-pro" } });
    expect(patched.status).toBe(404);
    expect(((await patched.json()) as Problem).code).toBe("model_not_found");

    const openAi = await completion(cookie, "openai:o1-pro");
    expect(openAi.status).toBe(404);
    expect(await openAi.json()).toMatchObject({ code: "model_not_found", error: { code: "model_not_found", type: "invalid_request_error" } });

    expect(await conversationCount(cookie)).toBe(1);
    expect(h.mock.requests.filter((r) => !r.path.endsWith("/models"))).toHaveLength(0);
  });

  it("lists the catalog, MODEL_OVERRIDES and the Ollama server's models, and says which are priced", async () => {
    const { cookie } = await h.signUp();
    const models = await listed(cookie);
    expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(["openai:gpt-4o-mini", FINETUNE, "ollama:mock-model", "offline:bot-gpt-offline"]));
    expect(models.find((m) => m.id === FINETUNE)?.priced).toBe(true);
    // Ollama reports the model but not its price.
    expect(models.find((m) => m.id === "ollama:mock-model")?.priced).toBe(false);

    const created = await call(conversationsRoute.POST, { cookie, body: { model: FINETUNE, first_message: "a fine-tuned hello" } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { messages: Array<{ model: string | null }> }).messages[1]?.model).toBe(FINETUNE);
  });

  it("with ALLOWED_MODELS, lists exactly those (and the offline model) and refuses everything else", async () => {
    env.ALLOWED_MODELS = ["openai:gpt-4o", "openai:o3-pro"];
    const { cookie } = await h.signUp();
    const models = await listed(cookie);
    expect(models.map((m) => m.id).sort()).toEqual(["offline:bot-gpt-offline", "openai:gpt-4o", "openai:o3-pro"]);
    expect(models.find((m) => m.id === "openai:o3-pro")?.priced).toBe(false);

    expect((await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } })).status).toBe(404);
    expect((await call(conversationsRoute.POST, { cookie, body: { model: "ollama:mock-model" } })).status).toBe(404);
    expect((await completion(cookie, "openai:gpt-4o-mini")).status).toBe(404);
    // Listed, though not in the catalog: usable, and free of any budget here.
    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:o3-pro", first_message: "allowed" } });
    expect(created.status).toBe(201);
  });

  it("keeps a conversation whose model left the list readable, and refuses a new turn on it until another model is picked", async () => {
    const { cookie } = await h.signUp();
    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "before the change" } });
    const { conversation } = (await created.json()) as { conversation: { id: string } };
    env.ALLOWED_MODELS = ["openai:gpt-4o"];

    const read = await call(conversationRoute.GET, { cookie, params: { id: conversation.id } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { messages: unknown[] }).messages).toHaveLength(2);

    const calls = h.mock.requests.length;
    const refused = await call(messagesRoute.POST, { cookie, params: { id: conversation.id }, body: { content: "after the change" } });
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as Problem;
    expect(problem).toMatchObject({ code: "model_not_available", model: "openai:gpt-4o-mini" });
    expect(problem.detail).toMatch(/no longer offers/);
    expect(h.mock.requests.length).toBe(calls);

    const patched = await call(conversationRoute.PATCH, { cookie, params: { id: conversation.id }, body: { model: "openai:gpt-4o" } });
    expect(patched.status).toBe(200);
    const resumed = await call(messagesRoute.POST, { cookie, params: { id: conversation.id }, body: { content: "with the new model" } });
    expect(resumed.status).toBe(201);
    expect(((await resumed.json()) as { assistant_message: { model: string } }).assistant_message.model).toBe("openai:gpt-4o");
  });
});

describe("unpriced models under a USD budget", () => {
  it("refuses an unpriced model with 422 model_not_priced instead of letting it spend for $0; a priced one goes ahead", async () => {
    env.ALLOWED_MODELS = ["openai:o3-pro", "openai:gpt-4o-mini"];
    const { cookie, user } = await h.signUp();
    await setUserBudget({ user: user.id, usdPerMonth: 0.001 });

    const refused = await call(conversationsRoute.POST, { cookie, body: { model: "openai:o3-pro", first_message: "spend for free?" } });
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as Problem;
    expect(problem).toMatchObject({ code: "model_not_priced", model: "openai:o3-pro", budget: "user" });
    expect(problem.detail).toMatch(/MODEL_OVERRIDES/);
    const openAi = await completion(cookie, "openai:o3-pro");
    expect(openAi.status).toBe(422);
    expect(((await openAi.json()) as Problem).code).toBe("model_not_priced");
    expect(h.mock.requests).toHaveLength(0);
    expect(await conversationCount(cookie)).toBe(0);

    expect((await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "priced" } })).status).toBe(201);

    // A token budget alone does not need prices.
    const other = await h.signUp();
    await setUserBudget({ user: other.user.id, tokensPerDay: 1_000_000 });
    expect((await call(conversationsRoute.POST, { cookie: other.cookie, body: { model: "openai:o3-pro", first_message: "tokens only" } })).status).toBe(201);
  });

  it("skips an unpriced fallback model for a caller under a USD budget", async () => {
    env.FALLBACK_MODELS = ["ollama:mock-model"];
    const send = async (cookie: string) => {
      h.mock.pushFault({ type: "status", status: 400, message: "refused" });
      const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "fall back" } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { messages: Array<{ model: string; fallback_used: boolean }> }).messages[1]!;
    };
    // Without a USD budget the unpriced fallback answers…
    expect(await send((await h.signUp()).cookie)).toMatchObject({ model: "ollama:mock-model", fallback_used: true });
    // …with one it is passed over for the offline model, which costs nothing.
    const { cookie, user } = await h.signUp();
    await setUserBudget({ user: user.id, usdPerMonth: 5 });
    expect(await send(cookie)).toMatchObject({ model: "offline:bot-gpt-offline", fallback_used: true });
  });
});
