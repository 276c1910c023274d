import { sql } from "drizzle-orm";
import type { Executor } from "@/lib/db/client";
import { settleSpend } from "@/lib/db/queries/reservations";
import { usageCounters, usageEvents, type UsageKind } from "@/lib/db/schema";

/**
 * The usage ledger: every model call that costs tokens — replies, summaries, embeddings — is one
 * `usage_events` row, and its tokens and dollars are added to the per-day counters of the user and
 * (when one made the call) the API key, in the same transaction — which also gives back the call's
 * budget reservation, if it made one. Budgets read the counters.
 */

export type UsageEntry = {
  userId: string;
  apiKeyId: string | null;
  kind: UsageKind;
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  estimated: boolean;
  cached?: boolean;
  conversationId?: string | null;
  messageId?: string | null;
  documentId?: string | null;
  /** The budget reservation this spend settles (lib/usage/budget.ts). */
  reservationId?: string | null;
};

export const userSubject = (userId: string) => `user:${userId}`;
export const apiKeySubject = (apiKeyId: string) => `key:${apiKeyId}`;

/** The UTC calendar day of an instant, as budgets and `/usage?group_by=day` count it. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export async function recordUsage(tx: Executor, entry: UsageEntry, at = new Date()): Promise<void> {
  await tx.insert(usageEvents).values({
    userId: entry.userId,
    apiKeyId: entry.apiKeyId,
    conversationId: entry.conversationId ?? null,
    messageId: entry.messageId ?? null,
    documentId: entry.documentId ?? null,
    kind: entry.kind,
    provider: entry.provider,
    model: entry.model,
    promptTokens: entry.promptTokens,
    completionTokens: entry.completionTokens,
    cachedTokens: entry.cachedTokens,
    costUsd: entry.costUsd,
    estimated: entry.estimated,
    cached: entry.cached ?? false,
    createdAt: at,
  });
  const tokens = entry.promptTokens + entry.completionTokens;
  const day = utcDay(at);
  const subjects = [userSubject(entry.userId), ...(entry.apiKeyId ? [apiKeySubject(entry.apiKeyId)] : [])];
  if (entry.reservationId) {
    await settleSpend(tx, { reservationId: entry.reservationId, userId: entry.userId, subjects, day, tokens, costUsd: entry.costUsd });
    return;
  }
  if (tokens === 0 && entry.costUsd === 0) return;
  await tx
    .insert(usageCounters)
    .values(subjects.map((subject) => ({ subject, day, userId: entry.userId, tokens, costUsd: entry.costUsd })))
    .onConflictDoUpdate({
      target: [usageCounters.subject, usageCounters.day],
      set: {
        tokens: sql`${usageCounters.tokens} + excluded.tokens`,
        costUsd: sql`${usageCounters.costUsd} + excluded.cost_usd`,
      },
    });
}
