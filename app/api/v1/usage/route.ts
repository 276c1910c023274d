import { json, withAuth } from "@/lib/api/handler";
import { summarizeUsage } from "@/lib/db/queries/usage";
import { usageQuerySchema } from "./schema";

export const dynamic = "force-dynamic";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Tokens and cost of the caller's model calls; default window: the last 30 days. */
export const GET = withAuth(
  async ({ user, query }) => {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
    const rows = await summarizeUsage({ userId: user.id, from, to, groupBy: query.group_by });
    const data = rows.map((r) => ({
      [query.group_by]: r.key,
      prompt_tokens: r.promptTokens,
      completion_tokens: r.completionTokens,
      total_tokens: r.promptTokens + r.completionTokens,
      cost_usd: Math.round(r.costUsd * 1e8) / 1e8,
      requests: r.requests,
    }));
    const totals = data.reduce(
      (t, r) => ({
        prompt_tokens: t.prompt_tokens + r.prompt_tokens,
        completion_tokens: t.completion_tokens + r.completion_tokens,
        total_tokens: t.total_tokens + r.total_tokens,
        cost_usd: Math.round((t.cost_usd + r.cost_usd) * 1e8) / 1e8,
        requests: t.requests + r.requests,
      }),
      { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0, requests: 0 },
    );
    return json({ from: from.toISOString(), to: to.toISOString(), group_by: query.group_by, data, totals });
  },
  { query: usageQuerySchema, scope: "conversations:read" },
);
