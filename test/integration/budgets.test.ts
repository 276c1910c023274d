import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Budgets under concurrency: every model call reserves its estimated spend before it starts and
 * settles it with the real usage, so concurrent calls cannot all pass a check that reads counters
 * their own spend has not reached yet. Overshoot is bounded by one call; a reservation whose
 * process died expires.
 */

const usesPostgres = Boolean(process.env.DATABASE_URL);
// The crash test shares the database with a child process: on PGlite, a directory (opened by this
// process only once the child is dead).
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-budget-"));
if (!usesPostgres) process.env.DATA_DIR = dataDir;

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let regenerateRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
let completionsRoute: typeof import("@/app/api/v1/chat/completions/route");
let usageRoute: typeof import("@/app/api/v1/usage/route");
let apiKeysRoute: typeof import("@/app/api/v1/api-keys/route");
let budgets: typeof import("@/lib/db/queries/budgets");

beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_CHAT_PER_MINUTE: "100000", RATE_LIMIT_PER_MINUTE: "100000" });
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  regenerateRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
  completionsRoute = await import("@/app/api/v1/chat/completions/route");
  usageRoute = await import("@/app/api/v1/usage/route");
  apiKeysRoute = await import("@/app/api/v1/api-keys/route");
  budgets = await import("@/lib/db/queries/budgets");
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  h.mock.reset();
  // Slow enough that the 30 calls overlap.
  h.mock.settings.chunkDelayMs = 15;
});

type Period = { limit: number | null; used: number; reserved: number };
type Report = { totals: { total_tokens: number; cost_usd: number }; budget: { tokens_per_day: Period; usd_per_month: Period } };

async function usage(auth: { cookie?: string; headers?: Record<string, string> }): Promise<Report> {
  const res = await call(usageRoute.GET, { ...auth, path: "/api/v1/usage" });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

async function newConversation(cookie: string): Promise<string> {
  const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: { id: string } }).conversation.id;
}

describe("budgets under concurrency", () => {
  it("30 concurrent turns against a small token budget spend at most the limit plus one call; the rest are 429 budget_exceeded", async () => {
    const { cookie, user } = await h.signUp();
    const limit = 150;
    await budgets.setUserBudget({ user: user.id, tokensPerDay: limit });
    const ids = await Promise.all(Array.from({ length: 30 }, () => newConversation(cookie)));

    const responses = await Promise.all(ids.map((id, i) => call(messagesRoute.POST, { cookie, params: { id }, body: { content: `Question number ${i}, please answer it` } })));
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));
    const answered = bodies.filter((b) => b.status === 201);
    const refused = bodies.filter((b) => b.status !== 201);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r).toMatchObject({ status: 429, body: { code: "budget_exceeded", limit_type: "tokens_per_day", budget: "user" } });

    const spent = answered.map((a) => {
      const reply = a.body.assistant_message as { prompt_tokens: number; completion_tokens: number };
      return reply.prompt_tokens + reply.completion_tokens;
    });
    const report = await usage({ cookie });
    expect(report.totals.total_tokens).toBe(spent.reduce((a, b) => a + b, 0));
    expect(report.budget.tokens_per_day.used).toBe(report.totals.total_tokens);
    expect(report.budget.tokens_per_day.used).toBeLessThanOrEqual(limit + Math.max(...spent));
    // Every reservation was settled: nothing stays held.
    expect(report.budget.tokens_per_day.reserved).toBe(0);
  });

  it("holds an API key's USD budget the same way on the OpenAI-compatible endpoint", async () => {
    const { cookie } = await h.signUp();
    const created = await call(apiKeysRoute.POST, { cookie, body: { name: "metered", scopes: ["conversations:read", "conversations:write"] } });
    const key = (await created.json()) as { id: string; key: string };
    const limit = 0.00005;
    await budgets.setApiKeyBudget({ id: key.id, usdPerMonth: limit });
    const headers = { authorization: `Bearer ${key.key}` };

    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(completionsRoute.POST, { headers, body: { model: "openai:gpt-4o-mini", store: false, messages: [{ role: "user", content: `Price check ${i}` }] } }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    const refused = responses.find((r) => r.status === 429)!;
    expect(await refused.json()).toMatchObject({ code: "budget_exceeded", budget: "api_key", limit_type: "usd_per_month", error: { type: "insufficient_quota" } });

    const { modelInfo, costUsd } = await import("@/lib/ai/models");
    const price = modelInfo("openai", "gpt-4o-mini");
    const costs = await Promise.all(
      responses
        .filter((r) => r.status === 200)
        .map(async (r) => {
          const { usage: u } = (await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
          return costUsd(price, u.prompt_tokens, u.completion_tokens);
        }),
    );
    const report = await usage({ headers });
    // The report rounds dollars to the micro-dollar.
    expect(report.budget.usd_per_month.used).toBeCloseTo(costs.reduce((a, b) => a + b, 0), 5);
    expect(report.budget.usd_per_month.used).toBeLessThanOrEqual(limit + Math.max(...costs) + 1e-6);
    expect(report.budget.usd_per_month.reserved).toBe(0);
  });

  it("a call refused by the key's budget holds nothing on its owner's", async () => {
    const { cookie, user } = await h.signUp();
    await budgets.setUserBudget({ user: user.id, tokensPerDay: 1_000_000 });
    const created = await call(apiKeysRoute.POST, { cookie, body: { name: "spent", scopes: ["conversations:read", "conversations:write"] } });
    const key = (await created.json()) as { id: string; key: string };
    const headers = { authorization: `Bearer ${key.key}` };
    const ask = () => call(completionsRoute.POST, { headers, body: { model: "openai:gpt-4o-mini", store: false, messages: [{ role: "user", content: "hello" }] } });
    expect((await ask()).status).toBe(200);
    await budgets.setApiKeyBudget({ id: key.id, tokensPerDay: 1 });
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "budget_exceeded", budget: "api_key" });
    // The owner's row had room and took the hold in the same statement; it was given back.
    expect((await usage({ cookie })).budget.tokens_per_day).toMatchObject({ reserved: 0, limit: 1_000_000 });
  });

  it("gives the reservation back when the request fails before the model is called", async () => {
    const { cookie, user } = await h.signUp();
    await budgets.setUserBudget({ user: user.id, tokensPerDay: 1_000_000 });
    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "first" } });
    const { conversation, messages } = (await created.json()) as { conversation: { id: string }; messages: Array<{ id: string }> };
    // Regenerating the user message (not the last reply) is refused after the budget was reserved.
    const refused = await call(regenerateRoute.POST, { cookie, params: { id: conversation.id, message_id: messages[0]!.id }, body: {} });
    expect(refused.status).toBe(422);
    const report = await usage({ cookie });
    expect(report.budget.tokens_per_day.reserved).toBe(0);
    expect(report.budget.tokens_per_day.used).toBeGreaterThan(0);
  });
});

describe("summaries", () => {
  it("reserve against the budget too: with none left the summary is extractive and no model is called", async () => {
    const { cookie, user } = await h.signUp();
    const id = await newConversation(cookie);
    for (const content of ["The valve opens at 7 bar.", "The pump runs at 1,450 rpm."]) {
      expect((await call(messagesRoute.POST, { cookie, params: { id }, body: { content } })).status).toBe(201);
    }
    const { scheduleSummary, settleSummaries } = await import("@/lib/chat/summarize");
    const { loadPayer } = await import("@/lib/usage/budget");
    const isSummaryCall = (r: { body: Record<string, unknown> }) => JSON.stringify(r.body).includes("running summary of a conversation");
    const spentSoFar = (await usage({ cookie })).budget.tokens_per_day.used;

    // The day's budget is used up: the summary is written without the model.
    await budgets.setUserBudget({ user: user.id, tokensPerDay: spentSoFar });
    scheduleSummary({ conversation: { id }, userId: user.id, apiKeyId: null, payer: await loadPayer({ userId: user.id, apiKey: null }), throughSeq: 2 });
    await settleSummaries();
    expect(h.mock.requests.filter(isSummaryCall)).toHaveLength(0);
    const conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
    const read = async () => ((await (await call(conversationRoute.GET, { cookie, params: { id } })).json()) as { conversation: { summary: string | null; summary_through_seq: number | null } }).conversation;
    expect(await read()).toMatchObject({ summary: expect.stringContaining("7 bar"), summary_through_seq: 2 });

    // With room, the summary model is called, and its reservation is settled with its spend.
    await budgets.setUserBudget({ user: user.id, tokensPerDay: spentSoFar + 100_000 });
    scheduleSummary({ conversation: { id }, userId: user.id, apiKeyId: null, payer: await loadPayer({ userId: user.id, apiKey: null }), throughSeq: 4 });
    await settleSummaries();
    expect(h.mock.requests.filter(isSummaryCall)).toHaveLength(1);
    const report = await usage({ cookie });
    expect(report.budget.tokens_per_day.used).toBeGreaterThan(spentSoFar);
    expect(report.budget.tokens_per_day.reserved).toBe(0);
  });
});

describe("spend history", () => {
  it("deleting a conversation leaves its spend in /usage", async () => {
    const { cookie } = await h.signUp();
    const created = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini", first_message: "something to pay for" } });
    const { conversation } = (await created.json()) as { conversation: { id: string } };
    const before = await usage({ cookie });
    expect(before.totals.total_tokens).toBeGreaterThan(0);

    const conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
    expect((await call(conversationRoute.DELETE, { cookie, method: "DELETE", params: { id: conversation.id } })).status).toBe(204);
    const after = await usage({ cookie });
    expect(after.totals).toEqual(before.totals);
    // The ledger and the budget counters agree again.
    expect(after.budget.tokens_per_day.used).toBe(after.totals.total_tokens);
  });
});

describe("a reservation left by a dead process", () => {
  it("holds the budget until it expires, then the next refused call releases it", { timeout: 60_000 }, async () => {
    h.mock.settings.reply = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
    h.mock.settings.chunkDelayMs = 40;
    // PGlite: one process at a time on the directory.
    await (await import("@/lib/db/client")).closeDb();
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/budget-crash-child.ts"], {
      env: { ...process.env, CHILD_TOKENS_PER_DAY: "1000", BUDGET_RESERVATION_TTL_SECONDS: "60", INSTANCE_ID: "budget-crash-child" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (data: Buffer) => {
        buffer += data.toString();
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        lines.push(...parts);
        if (parts.includes("DELTA")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`child exited (${code}) before its reply began: ${lines.join("\n")}`)));
    });
    const { userId, reservationId } = JSON.parse(lines.find((l) => l.startsWith("{")) ?? "{}") as { userId: string; reservationId: string };
    expect(reservationId).toBeTruthy();
    const exited = new Promise((resolve) => child.on("exit", resolve));
    process.kill(child.pid!, "SIGKILL");
    await exited;

    const { loadPayer, reserveBudget, budgetStatus } = await import("@/lib/usage/budget");
    const { modelInfo } = await import("@/lib/ai/models");
    const model = { id: "openai:gpt-4o-mini", info: modelInfo("openai", "gpt-4o-mini") };
    const payer = await loadPayer({ userId, apiKey: null });
    const small = { tokens: 10, costUsd: 0 };

    // The dead process's reservation still holds the day's 1,000 tokens…
    const held = (await budgetStatus({ userId, apiKey: null })).tokens_per_day;
    expect(held.reserved).toBeGreaterThanOrEqual(1_000);
    await expect(reserveBudget(payer, model, small)).rejects.toMatchObject({ code: "budget_exceeded", message: expect.stringMatching(/held by replies in progress/) });

    // …until it expires (60 s here): the next call refused for want of budget releases it and goes ahead.
    const later = new Date(Date.now() + 61_000);
    const reservation = await reserveBudget(payer, model, small, later);
    expect(reservation).not.toBeNull();
    const after = (await budgetStatus({ userId, apiKey: null }, later)).tokens_per_day;
    expect(after.reserved).toBe(small.tokens);
    const { getDb, rowsOf } = await import("@/lib/db/client");
    const { sql } = await import("drizzle-orm");
    const left = rowsOf<{ id: string }>(await (await getDb()).execute(sql`select id from usage_reservations where user_id = ${userId}::uuid`));
    expect(left.map((r) => r.id)).toEqual([reservation!.id]);
    await reservation!.release();
    expect((await budgetStatus({ userId, apiKey: null }, later)).tokens_per_day.reserved).toBe(0);
  });
});
