import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { withDb } from "../support/db";

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-cli-"));
// The CLI runs as its own process: PGlite in a temp directory, or the project's Postgres. This
// process opens the same database (set before any lib/ module reads the environment), between
// CLI runs only: PGlite allows one process at a time. Budget defaults are set so "default" shows.
Object.assign(process.env, {
  DATA_DIR: dataDir,
  BUDGET_TOKENS_PER_DAY: "5000",
  BUDGET_USD_PER_MONTH: "0",
  API_KEY_BUDGET_TOKENS_PER_DAY: "0",
  API_KEY_BUDGET_USD_PER_MONTH: "2.5",
});
const env = { ...process.env };

function cli(...args: string[]) {
  return run("npx", ["tsx", "scripts/cli.ts", ...args], { env, cwd: process.cwd(), timeout: 60_000 });
}

async function createUser(): Promise<{ id: string; email: string }> {
  const created = await cli("user:create", "--email", `budget-${randomUUID()}@example.test`, "--password", "long enough pw");
  return JSON.parse(created.stdout) as { id: string; email: string };
}

type BudgetReport = {
  user?: { id: string; email: string };
  api_key?: { id: string; user_id: string };
  stored: { tokens_per_day: number | null; usd_per_month: number | null };
  effective: { tokens_per_day: number | null; usd_per_month: number | null };
  spend: { tokens_today: number; usd_this_month: number };
  resets_at: { tokens_per_day: string; usd_per_month: string };
};

async function budget(...args: string[]): Promise<BudgetReport> {
  return JSON.parse((await cli(...args)).stdout) as BudgetReport;
}

const nextUtcMidnight = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe("admin CLI", () => {
  it("creates users, refuses duplicates and bad input, and lists them", { timeout: 120_000 }, async () => {
    const email = `cli-${randomUUID()}@Example.test`;
    const created = await cli("user:create", "--email", email, "--password", "long enough pw", "--name", "Ada");
    const user = JSON.parse(created.stdout) as { id: string; email: string; name: string };
    expect(user).toMatchObject({ email: email.toLowerCase(), name: "Ada" });

    await expect(cli("user:create", "--email", email, "--password", "long enough pw")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("already exists"),
    });
    await expect(cli("user:create", "--email", "nope", "--password", "short")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--email must be an email address[\s\S]*--password must be at least 8/),
    });

    const listed = await cli("user:list", "--json");
    const users = JSON.parse(listed.stdout) as Array<{ id: string }>;
    expect(users.map((u) => u.id)).toContain(user.id);
  });
});

describe("budget admin CLI", () => {
  it("sets, shows and resets a user's limits, found by email in any case or by id", { timeout: 120_000 }, async () => {
    const user = await createUser();

    const set = await budget("budget:set", "--user", user.email.toUpperCase(), "--tokens-per-day", "1000", "--usd-per-month", "2.5");
    expect(set).toMatchObject({
      user: { id: user.id, email: user.email },
      stored: { tokens_per_day: 1000, usd_per_month: 2.5 },
      effective: { tokens_per_day: 1000, usd_per_month: 2.5 },
      spend: { tokens_today: 0, usd_this_month: 0 },
    });

    expect(await budget("budget:show", "--user", user.id)).toEqual(set);

    // Only the limit given changes; "default" falls back to BUDGET_TOKENS_PER_DAY, 0 lifts the limit.
    const reset = await budget("budget:set", "--user", user.id, "--tokens-per-day", "default");
    expect(reset).toMatchObject({ stored: { tokens_per_day: null, usd_per_month: 2.5 }, effective: { tokens_per_day: 5000, usd_per_month: 2.5 } });
    const unlimited = await budget("budget:set", "--user", user.email, "--tokens-per-day", "0", "--usd-per-month", "default");
    expect(unlimited).toMatchObject({ stored: { tokens_per_day: 0, usd_per_month: null }, effective: { tokens_per_day: null, usd_per_month: null } });
  });

  it("sets and shows an API key's limits", { timeout: 120_000 }, async () => {
    const user = await createUser();
    const { apiKey } = await withDb(async () => {
      const { createApiKey } = await import("@/lib/db/queries/api-keys");
      return createApiKey({ userId: user.id, name: "ci", scopes: ["conversations:write"], expiresAt: null });
    });

    const set = await budget("budget:set", "--key", apiKey.id, "--tokens-per-day", "200");
    expect(set).toMatchObject({
      api_key: { id: apiKey.id, user_id: user.id },
      stored: { tokens_per_day: 200, usd_per_month: null },
      effective: { tokens_per_day: 200, usd_per_month: 2.5 },
    });
    expect(await budget("budget:show", "--key", apiKey.id)).toEqual(set);
    // The user's own limits are untouched.
    expect(await budget("budget:show", "--user", user.id)).toMatchObject({ stored: { tokens_per_day: null, usd_per_month: null } });
  });

  it("refuses bad arguments with exit code 2 and unknown users or keys with exit code 1", { timeout: 120_000 }, async () => {
    const bad: Array<[string[], RegExp]> = [
      [["budget:set", "--user", "a@example.test", "--tokens-per-day=-5"], /--tokens-per-day must be a non-negative integer/],
      [["budget:set", "--user", "a@example.test", "--usd-per-month", "-1"], /--usd-per-month' argument is ambiguous/],
      [["budget:set", "--user", "a@example.test", "--usd-per-month", "ten"], /--usd-per-month must be a non-negative number/],
      [["budget:set", "--user", "a@example.test"], /give --tokens-per-day and\/or --usd-per-month/],
      [["budget:set", "--tokens-per-day", "5"], /give exactly one of --user/],
      [["budget:set", "--user", "a@example.test", "--key", randomUUID(), "--tokens-per-day", "5"], /give exactly one of --user/],
      [["budget:show"], /give exactly one of --user/],
      [["budget:show", "--key", "not-a-uuid"], /--key must be an API key id/],
    ];
    // Refused before the database is opened, so these can run side by side.
    await Promise.all(
      bad.map(([args, message]) =>
        expect(cli(...args), args.join(" ")).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(message) }),
      ),
    );

    await expect(cli("budget:show", "--user", `nobody-${randomUUID()}@example.test`)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("no such user"),
    });
    await expect(cli("budget:set", "--user", randomUUID(), "--tokens-per-day", "5")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("no such user"),
    });
    await expect(cli("budget:set", "--key", randomUUID(), "--usd-per-month", "1")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("no such API key"),
    });
  });

  it("a limit set with the CLI refuses the next model call once used up, until the next UTC midnight", { timeout: 120_000 }, async () => {
    const user = await createUser();
    await budget("budget:set", "--user", user.email, "--tokens-per-day", "1");
    const { loadPayer, reserveBudget } = await import("@/lib/usage/budget");
    const { modelInfo } = await import("@/lib/ai/models");
    const { AppError } = await import("@/lib/api/errors");
    const now = new Date();
    const model = { id: "openai:gpt-4o-mini", info: modelInfo("openai", "gpt-4o-mini") };
    const small = { tokens: 1, costUsd: 0 };

    const error = await withDb(async () => {
      const { getDb } = await import("@/lib/db/client");
      const { recordUsage } = await import("@/lib/usage/ledger");
      const payer = await loadPayer({ userId: user.id, apiKey: null });
      const reservation = await reserveBudget(payer, model, small, now);
      expect(reservation).not.toBeNull();
      await recordUsage(
        await getDb(),
        { userId: user.id, apiKeyId: null, kind: "chat", provider: "openai", model: "gpt-4o-mini", promptTokens: 3, completionTokens: 2, cachedTokens: 0, costUsd: 0.0001, estimated: false, reservationId: reservation!.id },
        now,
      );
      return reserveBudget(payer, model, small, now).then(() => null, (e: unknown) => e);
    });

    const resetsAt = nextUtcMidnight(now);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: "budget_exceeded",
      status: 429,
      headers: { "retry-after": String(Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)) },
      extensions: { budget: "user", limit_type: "tokens_per_day", limit: 1, used: 5, resets_at: resetsAt.toISOString() },
    });
    expect(Number((error as InstanceType<typeof AppError>).headers?.["retry-after"])).toBeGreaterThan(0);

    expect(await budget("budget:show", "--user", user.id)).toMatchObject({ spend: { tokens_today: 5 } });
  });
});

describe("embedded database lock", () => {
  it.runIf(!process.env.DATABASE_URL)("refuses a second process on the same PGlite directory, with a clear message", async () => {
    const { openDatabase } = await import("@/lib/db/client");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-lock-"));
    const handle = await openDatabase({ dataDir: dir });
    try {
      await expect(
        run("npx", ["tsx", "scripts/cli.ts", "user:list"], { env: { ...process.env, DATA_DIR: dir }, timeout: 60_000 }),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`is in use by process ${process.pid}`) });
    } finally {
      await handle.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
