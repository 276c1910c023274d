import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { getDb } from "@/lib/db/client";
import { usageCounters, users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { apiKeySubject, userSubject, utcDay } from "./ledger";

/**
 * Spending limits: tokens per UTC day and dollars per UTC calendar month, for each user and each
 * API key. A limit set on the user or key wins over the BUDGET_* defaults; 0 means none. Checked
 * before a model is called; the call that crosses a limit completes, the next one is refused.
 */

export type BudgetPeriodStatus = { limit: number | null; used: number; resets_at: string };
export type BudgetStatus = { tokens_per_day: BudgetPeriodStatus; usd_per_month: BudgetPeriodStatus };

type Limits = { tokensPerDay: number; usdPerMonth: number };
type Subject = { kind: "user" | "api_key"; key: string; limits: Limits };

function nextUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

function nextUtcMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

const monthStart = (now: Date) => utcDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));

type ApiKeyLimits = { id: string; budgetTokensPerDay: number | null; budgetUsdPerMonth: number | null };

async function subjectsFor(userId: string, apiKey: ApiKeyLimits | null): Promise<Subject[]> {
  const db = await getDb();
  const [user] = await db
    .select({ tokens: users.budgetTokensPerDay, usd: users.budgetUsdPerMonth })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  const subjects: Subject[] = [
    {
      kind: "user",
      key: userSubject(userId),
      limits: { tokensPerDay: user?.tokens ?? env.BUDGET_TOKENS_PER_DAY, usdPerMonth: user?.usd ?? env.BUDGET_USD_PER_MONTH },
    },
  ];
  if (apiKey) {
    subjects.push({
      kind: "api_key",
      key: apiKeySubject(apiKey.id),
      limits: {
        tokensPerDay: apiKey.budgetTokensPerDay ?? env.API_KEY_BUDGET_TOKENS_PER_DAY,
        usdPerMonth: apiKey.budgetUsdPerMonth ?? env.API_KEY_BUDGET_USD_PER_MONTH,
      },
    });
  }
  return subjects;
}

/** Tokens today and dollars this month per subject, from at most a month of counter rows each. */
async function spend(subjects: string[], now: Date): Promise<Map<string, { tokensToday: number; usdThisMonth: number }>> {
  const db = await getDb();
  const today = utcDay(now);
  const rows = await db
    .select({
      subject: usageCounters.subject,
      tokensToday: sql<number>`coalesce(sum(${usageCounters.tokens}) filter (where ${usageCounters.day} = ${today}), 0)::int`,
      usdThisMonth: sql<number>`coalesce(sum(${usageCounters.costUsd}), 0)::float8`,
    })
    .from(usageCounters)
    .where(and(inArray(usageCounters.subject, subjects), gte(usageCounters.day, monthStart(now))))
    .groupBy(usageCounters.subject);
  return new Map(rows.map((r) => [r.subject, { tokensToday: Number(r.tokensToday), usdThisMonth: Number(r.usdThisMonth) }]));
}

function periodStatus(limit: number, used: number, resetsAt: Date): BudgetPeriodStatus {
  return { limit: limit > 0 ? limit : null, used, resets_at: resetsAt.toISOString() };
}

/** The caller's limits and spend (the key's when an API key calls, else the user's). */
export async function budgetStatus(input: { userId: string; apiKey: ApiKeyLimits | null }, now = new Date()): Promise<BudgetStatus> {
  const subjects = await subjectsFor(input.userId, input.apiKey);
  const subject = subjects.at(-1)!;
  const used = (await spend([subject.key], now)).get(subject.key) ?? { tokensToday: 0, usdThisMonth: 0 };
  return {
    tokens_per_day: periodStatus(subject.limits.tokensPerDay, used.tokensToday, nextUtcDay(now)),
    usd_per_month: periodStatus(subject.limits.usdPerMonth, Math.round(used.usdThisMonth * 1e6) / 1e6, nextUtcMonth(now)),
  };
}

/** Throws 429 `budget_exceeded` (with Retry-After and when it resets) if any limit is used up. */
export async function assertWithinBudget(input: { userId: string; apiKey: ApiKeyLimits | null }, now = new Date()): Promise<void> {
  const subjects = await subjectsFor(input.userId, input.apiKey);
  const limited = subjects.filter((s) => s.limits.tokensPerDay > 0 || s.limits.usdPerMonth > 0);
  if (limited.length === 0) return;
  const used = await spend(
    limited.map((s) => s.key),
    now,
  );
  for (const subject of limited) {
    const spent = used.get(subject.key) ?? { tokensToday: 0, usdThisMonth: 0 };
    const who = subject.kind === "user" ? "Your account" : "This API key";
    if (subject.limits.tokensPerDay > 0 && spent.tokensToday >= subject.limits.tokensPerDay) {
      throw exceeded(subject, "tokens_per_day", subject.limits.tokensPerDay, spent.tokensToday, nextUtcDay(now), now,
        `${who} has used ${spent.tokensToday.toLocaleString("en-US")} of its ${subject.limits.tokensPerDay.toLocaleString("en-US")} tokens for today (UTC).`);
    }
    if (subject.limits.usdPerMonth > 0 && spent.usdThisMonth >= subject.limits.usdPerMonth) {
      throw exceeded(subject, "usd_per_month", subject.limits.usdPerMonth, spent.usdThisMonth, nextUtcMonth(now), now,
        `${who} has spent $${spent.usdThisMonth.toFixed(4)} of its $${subject.limits.usdPerMonth.toFixed(2)} monthly budget.`);
    }
  }
}

function exceeded(subject: Subject, limitType: keyof BudgetStatus, limit: number, used: number, resetsAt: Date, now: Date, detail: string): AppError {
  const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000));
  return new AppError("budget_exceeded", `${detail} It resets at ${resetsAt.toISOString()}.`, {
    headers: { "retry-after": String(retryAfter) },
    extensions: { budget: subject.kind, limit_type: limitType, limit, used: Math.round(used * 1e6) / 1e6, resets_at: resetsAt.toISOString() },
  });
}
