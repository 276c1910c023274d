import { json, withAuth } from "@/lib/api/handler";
import { getStorageUsage } from "@/lib/db/queries/documents";
import { otherMethods } from "@/lib/api/methods";
import { summarizeUsage, type UsageNumbers } from "@/lib/db/queries/usage";
import { usageKinds, type UsageKind } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { budgetStatus } from "@/lib/usage/budget";
import { usageQuerySchema } from "./schema";

export const dynamic = "force-dynamic";

const DAY_MS = 24 * 60 * 60 * 1000;

const zero = (): UsageNumbers => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, requests: 0 });

function add(total: UsageNumbers, row: UsageNumbers): UsageNumbers {
  return {
    promptTokens: total.promptTokens + row.promptTokens,
    completionTokens: total.completionTokens + row.completionTokens,
    cachedTokens: total.cachedTokens + row.cachedTokens,
    costUsd: total.costUsd + row.costUsd,
    requests: total.requests + row.requests,
  };
}

function wire(n: UsageNumbers) {
  return {
    prompt_tokens: n.promptTokens,
    completion_tokens: n.completionTokens,
    cached_tokens: n.cachedTokens,
    total_tokens: n.promptTokens + n.completionTokens,
    cost_usd: Math.round(n.costUsd * 1e8) / 1e8,
    requests: n.requests,
  };
}

/** Tokens and cost of the caller's model calls (replies, summaries, embeddings); default window: the last 30 days. Plus their document storage. */
export const GET = withAuth(
  async ({ user, apiKey, query }) => {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
    const [rows, budget, stored] = await Promise.all([
      summarizeUsage({ userId: user.id, from, to, groupBy: query.group_by }),
      budgetStatus({ userId: user.id, apiKey }),
      getStorageUsage({ userId: user.id }),
    ]);
    const groups = new Map<string, UsageNumbers>();
    const byKind = Object.fromEntries(usageKinds.map((k) => [k, zero()])) as Record<UsageKind, UsageNumbers>;
    for (const row of rows) {
      groups.set(row.key, add(groups.get(row.key) ?? zero(), row));
      byKind[row.kind] = add(byKind[row.kind], row);
    }
    const data = [...groups].map(([key, n]) => ({ [query.group_by]: key, ...wire(n) }));
    const totals = Object.values(byKind).reduce(add, zero());
    return json({
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: query.group_by,
      data,
      totals: wire(totals),
      by_kind: { chat: wire(byKind.chat), summary: wire(byKind.summary), embedding: wire(byKind.embedding) },
      budget,
      storage: {
        bytes_used: stored.bytes,
        bytes_limit: env.STORAGE_QUOTA_BYTES || null,
        documents: stored.documents,
        documents_limit: env.MAX_DOCUMENTS_PER_USER || null,
      },
    });
  },
  { query: usageQuerySchema, scope: "conversations:read" },
);

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
