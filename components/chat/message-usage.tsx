"use client";

import { useId, type ReactNode } from "react";
import { formatCount, formatDuration, formatUsd } from "./format";
import { hoverCardClass, useHoverCard } from "./hover-card";
import type { ChatMetadata } from "./types";

const CARD_WIDTH = 256;

function InfoIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3.5">
      <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.3" />
      <path d="M8 7.2v4M8 4.6v.1" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
    </svg>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-3">
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="text-right font-medium break-all tabular-nums">{children}</dd>
    </div>
  );
}

/** A reply's tokens, cost, model and timing, in a card on hover or focus of a small info button. */
export function UsageDetails({ meta }: { meta: ChatMetadata }) {
  const cardId = useId();
  const { placement, show, hideSoon } = useHoverCard(CARD_WIDTH);
  const cachedTokens = meta.cached_tokens ?? 0;
  return (
    <span className="inline-flex" onMouseEnter={(e) => show(e.currentTarget)} onMouseLeave={hideSoon}>
      <button
        type="button"
        aria-label="Usage details"
        aria-describedby={cardId}
        onFocus={(e) => show(e.currentTarget)}
        onBlur={hideSoon}
        // Touch screens neither hover nor (in Safari) focus a tapped button.
        onClick={(e) => show(e.currentTarget)}
        className="inline-flex size-5 items-center justify-center rounded-full text-zinc-500 hover:bg-zinc-200 hover:text-zinc-800 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-500 dark:text-zinc-400 dark:hover:bg-zinc-700 dark:hover:text-zinc-100"
      >
        <InfoIcon />
      </button>
      <div id={cardId} role="tooltip" hidden={!placement} style={placement ?? undefined} className={hoverCardClass}>
        <p className="mb-1.5 font-semibold">Usage of this reply</p>
        <dl className="space-y-0.5">
          <Row label="Prompt">
            {meta.prompt_tokens != null ? `${formatCount(meta.prompt_tokens)} tokens` : "—"}
            {cachedTokens > 0 ? ` (${formatCount(cachedTokens)} cached)` : ""}
          </Row>
          <Row label="Completion">{meta.completion_tokens != null ? `${formatCount(meta.completion_tokens)} tokens` : "—"}</Row>
          <Row label="Cost">{meta.cost_usd != null ? formatUsd(meta.cost_usd) : "unknown"}</Row>
          {meta.model ? (
            <Row label="Model">
              {meta.model}
              {meta.fallback_used ? " (fallback)" : ""}
            </Row>
          ) : null}
          {meta.latency_ms != null ? (
            <Row label="Time">
              {formatDuration(meta.latency_ms)}
              {meta.ttft_ms != null ? ` · first token ${formatDuration(meta.ttft_ms)}` : ""}
            </Row>
          ) : null}
        </dl>
        {meta.cached ? <p className="mt-1.5 text-emerald-700 dark:text-emerald-400">From cache · no cost</p> : null}
        {meta.usage_estimated ? (
          <p className="mt-1.5 text-zinc-500 dark:text-zinc-400">Estimated: the provider reported no usage, so BOT GPT counted the tokens.</p>
        ) : null}
      </div>
    </span>
  );
}

/** Visible on replies answered from BOT GPT's response cache. */
export function CachedBadge() {
  return (
    <span
      title="Answered from the response cache: no model call, no cost"
      className="rounded bg-emerald-100 px-1.5 py-px text-[0.7rem] font-medium text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
    >
      cached
    </span>
  );
}

/** Visible on replies a fallback model gave because the conversation's model failed. */
export function FallbackBadge() {
  return (
    <span
      data-testid="fallback-badge"
      title="The conversation's model failed, so the next model in the fallback chain answered"
      className="rounded bg-amber-100 px-1.5 py-px text-[0.7rem] font-medium text-amber-900 dark:bg-amber-950 dark:text-amber-300"
    >
      fallback
    </span>
  );
}
