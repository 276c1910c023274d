"use client";

import { useEffect, useState } from "react";
import { apiCall } from "@/components/api-client";
import { formatCount, formatUsd, formatWhen } from "@/components/chat/format";
import { formatBytes } from "@/components/documents/types";
import { Button } from "@/components/ui/button";
import { toast } from "@/components/ui/toaster";
import type { UsageResource as Usage } from "@/lib/api/resources";

type UsageRow = Usage["data"][number];
type BudgetPeriod = Usage["budget"]["tokens_per_day"];

async function fetchUsage(groupBy: "day" | "model"): Promise<Usage> {
  return apiCall(`/usage?group_by=${groupBy}`, { fallback: "Could not load your usage." });
}


/** One limit and what is used of it; `resetsAt` for a limit that renews (budgets), none for storage. */
function LimitLine({ label, used, limit, resetsAt, format }: { label: string; used: number; limit: number | null; resetsAt?: string; format: (n: number) => string }) {
  return (
    <div className="flex flex-wrap justify-between gap-x-4 gap-y-1 py-2">
      <dt className="font-medium">{label}</dt>
      <dd className="text-zinc-700 tabular-nums dark:text-zinc-300">
        {format(used)}
        {limit === null ? " · no limit" : ` of ${format(limit)}${resetsAt ? ` · resets ${formatWhen(resetsAt)}` : ""}`}
      </dd>
    </div>
  );
}

const BudgetLine = ({ label, period, format }: { label: string; period: BudgetPeriod; format: (n: number) => string }) => (
  <LimitLine label={label} used={period.used} limit={period.limit} resetsAt={period.resets_at} format={format} />
);

function UsageTable({ caption, keyLabel, rows, totals }: { caption: string; keyLabel: string; rows: Array<{ key: string; n: UsageRow }>; totals: Usage["totals"] }) {
  return (
    <div className="overflow-x-auto rounded-xl border border-zinc-200 dark:border-zinc-800">
      <table className="w-full text-sm tabular-nums">
        <caption className="px-3 pt-3 text-left font-medium">{caption}</caption>
        <thead className="text-xs text-zinc-600 dark:text-zinc-400">
          <tr className="border-b border-zinc-200 dark:border-zinc-800">
            <th scope="col" className="px-3 py-2 text-left font-medium">
              {keyLabel}
            </th>
            <th scope="col" className="px-3 py-2 text-right font-medium">
              Requests
            </th>
            <th scope="col" className="px-3 py-2 text-right font-medium">
              Prompt (cached)
            </th>
            <th scope="col" className="px-3 py-2 text-right font-medium">
              Completion
            </th>
            <th scope="col" className="px-3 py-2 text-right font-medium">
              Cost
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {rows.length === 0 ? (
            <tr>
              <td colSpan={5} className="px-3 py-3 text-zinc-600 dark:text-zinc-400">
                Nothing used in this period.
              </td>
            </tr>
          ) : (
            rows.map(({ key, n }) => (
              <tr key={key}>
                <th scope="row" className="px-3 py-2 text-left font-normal break-all">
                  {key}
                </th>
                <td className="px-3 py-2 text-right">{formatCount(n.requests)}</td>
                <td className="px-3 py-2 text-right">
                  {formatCount(n.prompt_tokens)}
                  {n.cached_tokens > 0 ? ` (${formatCount(n.cached_tokens)})` : ""}
                </td>
                <td className="px-3 py-2 text-right">{formatCount(n.completion_tokens)}</td>
                <td className="px-3 py-2 text-right">{formatUsd(n.cost_usd)}</td>
              </tr>
            ))
          )}
        </tbody>
        <tfoot className="border-t border-zinc-200 font-medium dark:border-zinc-800">
          <tr>
            <th scope="row" className="px-3 py-2 text-left">
              Total
            </th>
            <td className="px-3 py-2 text-right">{formatCount(totals.requests)}</td>
            <td className="px-3 py-2 text-right">
              {formatCount(totals.prompt_tokens)}
              {totals.cached_tokens > 0 ? ` (${formatCount(totals.cached_tokens)})` : ""}
            </td>
            <td className="px-3 py-2 text-right">{formatCount(totals.completion_tokens)}</td>
            <td className="px-3 py-2 text-right">{formatUsd(totals.cost_usd)}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function UsageSkeleton() {
  return (
    <div aria-busy="true" className="space-y-4">
      <span className="sr-only">Loading usage</span>
      <div className="h-24 animate-pulse rounded-xl bg-zinc-100 dark:bg-zinc-800/60" />
      <div className="h-48 animate-pulse rounded-xl bg-zinc-100 dark:bg-zinc-800/60" />
    </div>
  );
}

/** The last 30 days of tokens and cost, by day and by model, what is left of the budgets, and document storage. */
export function UsageReport() {
  const [report, setReport] = useState<{ byDay: Usage; byModel: Usage } | null>(null);
  const [failed, setFailed] = useState(false);
  // Bumped by Retry; the effect below refetches.
  const [attempt, setAttempt] = useState(0);
  const retry = () => {
    setFailed(false);
    setAttempt((n) => n + 1);
  };

  useEffect(() => {
    let cancelled = false;
    Promise.all([fetchUsage("day"), fetchUsage("model")])
      .then(([byDay, byModel]) => {
        if (!cancelled) setReport({ byDay, byModel });
      })
      .catch(() => {
        if (cancelled) return;
        setFailed(true);
        toast({ message: "Could not load your usage.", tone: "error", action: { label: "Retry", onClick: retry } });
      });
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  if (failed) {
    return (
      <div className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center dark:border-zinc-700">
        <p className="text-sm font-medium">Usage is not available right now</p>
        <Button type="button" variant="secondary" className="mt-3" onClick={retry}>
          Try again
        </Button>
      </div>
    );
  }
  if (!report) return <UsageSkeleton />;

  const { byDay, byModel } = report;
  const { budget, by_kind: kinds, storage } = byDay;
  const days = byDay.data.map((n) => ({ key: n.day ?? "—", n })).sort((a, b) => b.key.localeCompare(a.key));
  const models = byModel.data.map((n) => ({ key: n.model ?? "—", n })).sort((a, b) => b.n.cost_usd - a.n.cost_usd || b.n.total_tokens - a.n.total_tokens);
  return (
    <div className="space-y-8">
      <section aria-labelledby="budget-heading" className="space-y-1">
        <h2 id="budget-heading" className="font-medium">
          Budget
        </h2>
        <dl className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 px-3 text-sm dark:divide-zinc-800 dark:border-zinc-800" data-testid="budget-status">
          <BudgetLine label="Tokens today (UTC)" period={budget.tokens_per_day} format={formatCount} />
          <BudgetLine label="Spending this month (UTC)" period={budget.usd_per_month} format={formatUsd} />
        </dl>
        <p className="text-xs text-zinc-600 dark:text-zinc-400">A message sent after a limit is reached is refused until it resets.</p>
      </section>

      <section aria-labelledby="storage-heading" className="space-y-1">
        <h2 id="storage-heading" className="font-medium">
          Document storage
        </h2>
        <dl className="divide-y divide-zinc-200 rounded-xl border border-zinc-200 px-3 text-sm dark:divide-zinc-800 dark:border-zinc-800" data-testid="storage-status">
          <LimitLine label="Space used" used={storage.bytes_used} limit={storage.bytes_limit} format={formatBytes} />
          <LimitLine label="Documents" used={storage.documents} limit={storage.documents_limit} format={formatCount} />
        </dl>
        <p className="text-xs text-zinc-600 dark:text-zinc-400">An upload past a limit is refused; deleting documents frees the space.</p>
      </section>

      <section aria-labelledby="usage-heading" className="space-y-3">
        <h2 id="usage-heading" className="font-medium">
          Last 30 days
        </h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {formatCount(byDay.totals.total_tokens)} tokens · {formatUsd(byDay.totals.cost_usd)} — replies {formatCount(kinds.chat.total_tokens)}, conversation summaries{" "}
          {formatCount(kinds.summary.total_tokens)}, document embeddings {formatCount(kinds.embedding.total_tokens)} tokens.
        </p>
        {byDay.totals.requests === 0 ? (
          <div className="rounded-xl border border-dashed border-zinc-300 px-4 py-8 text-center dark:border-zinc-700" data-testid="usage-empty">
            <p className="text-sm font-medium">No usage yet</p>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Send a message or call the API: its tokens and cost show up here.</p>
          </div>
        ) : (
          <>
            <UsageTable caption="By day" keyLabel="Day (UTC)" rows={days} totals={byDay.totals} />
            <UsageTable caption="By model" keyLabel="Model" rows={models} totals={byModel.totals} />
          </>
        )}
      </section>
    </div>
  );
}
