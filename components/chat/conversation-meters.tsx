import { useId } from "react";
import { formatTokens, formatUsd } from "./format";
import type { ContextResource } from "@/lib/api/resources";
import type { ConversationUsage } from "./types";

function tone(fraction: number): string {
  if (fraction >= 0.9) return "bg-red-600 dark:bg-red-400";
  if (fraction >= 0.7) return "bg-amber-500 dark:bg-amber-400";
  return "bg-emerald-600 dark:bg-emerald-400";
}

/**
 * How much of the model's context window the newest reply's request used. When it fills, older
 * messages are summarized (the server does that after a reply), so the gauge drops again.
 */
export function ContextGauge({ context }: { context: ContextResource }) {
  const descriptionId = useId();
  const fraction = context.window > 0 ? Math.min(1, context.tokens / context.window) : 0;
  const label = `${formatTokens(context.tokens)} / ${formatTokens(context.window)} tokens`;
  const explanation = [
    "How much of the model's context window the last request used.",
    context.summary_through_seq ? `It carried a summary of messages 1–${context.summary_through_seq} instead of them.` : null,
    context.omitted_messages > 0 ? `${context.omitted_messages} older messages did not fit and are waiting to be summarized.` : null,
    "As it fills, older messages are summarized so the conversation can go on.",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div className="flex shrink-0 items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400" title={explanation} data-testid="context-gauge">
      <div
        role="meter"
        aria-label="Context window"
        aria-valuemin={0}
        aria-valuemax={context.window}
        aria-valuenow={context.tokens}
        aria-valuetext={`${label} (${Math.round(fraction * 100)}%)`}
        aria-describedby={descriptionId}
        className="h-1.5 w-16 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700"
      >
        <div className={`h-full rounded-full ${tone(fraction)}`} style={{ width: `${Math.max(2, fraction * 100)}%` }} />
      </div>
      <span aria-hidden="true" className="tabular-nums">
        {label}
      </span>
      <span id={descriptionId} className="sr-only">
        {explanation}
      </span>
    </div>
  );
}

/** Every model call of the conversation so far, summaries included. */
export function ConversationTotals({ usage }: { usage: ConversationUsage }) {
  return (
    <span
      data-testid="conversation-usage"
      title="Tokens and cost of every model call in this conversation, summaries included"
      className="shrink-0 text-xs text-zinc-600 tabular-nums dark:text-zinc-400"
    >
      {formatTokens(usage.total_tokens)} tokens · {formatUsd(usage.total_cost_usd)}
    </span>
  );
}

/** Where the rolling summary begins to stand in for the messages above it; reveals its text. */
export function SummaryMarker({ throughSeq, summary }: { throughSeq: number; summary: string | null }) {
  const label = `${throughSeq} earlier ${throughSeq === 1 ? "message" : "messages"} summarized`;
  return (
    <div data-testid="summary-marker" className="mt-4 flex flex-col items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400">
      <details className="group w-full">
        <summary className="flex cursor-pointer list-none items-center gap-3 rounded focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 [&::-webkit-details-marker]:hidden">
          <span aria-hidden="true" className="h-px flex-1 bg-zinc-200 dark:bg-zinc-700" />
          <span className="inline-flex items-center gap-1 font-medium">
            <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3 transition-transform group-open:rotate-90">
              <path d="M6 3l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="2" />
            </svg>
            {label}
          </span>
          <span aria-hidden="true" className="h-px flex-1 bg-zinc-200 dark:bg-zinc-700" />
        </summary>
        {/* Plain text: React escapes it, so a summary can never inject markup. */}
        <p className="mx-auto mt-2 max-w-2xl rounded-lg bg-zinc-50 p-3 text-left text-sm leading-relaxed whitespace-pre-wrap text-zinc-700 dark:bg-zinc-900 dark:text-zinc-300">
          {summary ?? "The summary is not available."}
        </p>
        <p className="mx-auto mt-1 max-w-2xl text-center">The model reads this summary in place of the messages above it.</p>
      </details>
    </div>
  );
}
