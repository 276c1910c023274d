import { and, eq, gte, isNotNull, lt, sql } from "drizzle-orm";
import { getDb } from "../client";
import { conversations, messages } from "../schema";

export type UsageRow = {
  key: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  requests: number;
};

/** The caller's model usage between two instants, by UTC day or by model. */
export async function summarizeUsage(input: { userId: string; from: Date; to: Date; groupBy: "day" | "model" }): Promise<UsageRow[]> {
  const db = await getDb();
  const key =
    input.groupBy === "day"
      ? sql<string>`to_char(${messages.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`
      : sql<string>`coalesce(${messages.model}, 'unknown')`;
  const rows = await db
    .select({
      key,
      promptTokens: sql<number>`coalesce(sum(${messages.promptTokens}), 0)::int`,
      completionTokens: sql<number>`coalesce(sum(${messages.completionTokens}), 0)::int`,
      costUsd: sql<number>`coalesce(sum(${messages.costUsd}), 0)::float8`,
      requests: sql<number>`count(*)::int`,
    })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(
      and(
        eq(conversations.userId, input.userId),
        eq(messages.role, "assistant"),
        isNotNull(messages.model),
        gte(messages.createdAt, input.from),
        lt(messages.createdAt, input.to),
      ),
    )
    .groupBy(key)
    .orderBy(key);
  return rows;
}
