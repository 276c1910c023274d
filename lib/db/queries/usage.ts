import { and, eq, gte, lt, sql } from "drizzle-orm";
import { getDb } from "../client";
import { usageEvents, type UsageKind } from "../schema";

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
