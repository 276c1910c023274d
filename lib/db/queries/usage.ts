import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { getDb } from "../client";
import { usageCounters, usageEvents, type UsageKind } from "../schema";

export type UsageNumbers = {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  requests: number;
};

export type UsageRow = UsageNumbers & { key: string; kind: UsageKind };

/**
 * The caller's usage between two instants from the ledger (replies, summaries, embeddings), by UTC
 * day or by model, split by kind. Served by usage_events_user_time_idx.
 */
export async function summarizeUsage(input: { userId: string; from: Date; to: Date; groupBy: "day" | "model" }): Promise<UsageRow[]> {
  const db = await getDb();
  const key =
    input.groupBy === "day" ? sql<string>`to_char(${usageEvents.createdAt} at time zone 'UTC', 'YYYY-MM-DD')` : sql<string>`${usageEvents.model}`;
  const rows = await db
    .select({
      key,
      kind: usageEvents.kind,
      promptTokens: sql<number>`coalesce(sum(${usageEvents.promptTokens}), 0)::int`,
      completionTokens: sql<number>`coalesce(sum(${usageEvents.completionTokens}), 0)::int`,
      cachedTokens: sql<number>`coalesce(sum(${usageEvents.cachedTokens}), 0)::int`,
      costUsd: sql<number>`coalesce(sum(${usageEvents.costUsd}), 0)::float8`,
      requests: sql<number>`count(*)::int`,
    })
    .from(usageEvents)
    .where(and(eq(usageEvents.userId, input.userId), gte(usageEvents.createdAt, input.from), lt(usageEvents.createdAt, input.to)))
    .groupBy(key, usageEvents.kind)
    .orderBy(key);
  return rows;
}

export type SubjectSpend = { tokensToday: number; reservedTokensToday: number; usdThisMonth: number; reservedUsdThisMonth: number };

/**
 * Tokens today and dollars this month per budget subject, spent and held by calls in progress,
 * from at most a month of counter rows each (the counters' primary key).
 */
export async function spendBySubject(input: { subjects: string[]; today: string; monthStart: string }): Promise<Map<string, SubjectSpend>> {
  const db = await getDb();
  const rows = await db
    .select({
      subject: usageCounters.subject,
      tokensToday: sql<number>`coalesce(sum(${usageCounters.tokens}) filter (where ${usageCounters.day} = ${input.today}), 0)::int`,
      reservedTokensToday: sql<number>`coalesce(sum(${usageCounters.reservedTokens}) filter (where ${usageCounters.day} = ${input.today}), 0)::int`,
      usdThisMonth: sql<number>`coalesce(sum(${usageCounters.costUsd}), 0)::float8`,
      reservedUsdThisMonth: sql<number>`coalesce(sum(${usageCounters.reservedUsd}), 0)::float8`,
    })
    .from(usageCounters)
    .where(and(inArray(usageCounters.subject, input.subjects), gte(usageCounters.day, input.monthStart)))
    .groupBy(usageCounters.subject);
  return new Map(
    rows.map((r) => [
      r.subject,
      {
        tokensToday: Number(r.tokensToday),
        reservedTokensToday: Number(r.reservedTokensToday),
        usdThisMonth: Number(r.usdThisMonth),
        reservedUsdThisMonth: Number(r.reservedUsdThisMonth),
      },
    ]),
  );
}
