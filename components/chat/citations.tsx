"use client";

import { useId, useState } from "react";
import { contentUrl } from "@/components/documents/types";
import { hoverCardClass, useHoverCard } from "./hover-card";
import type { Citation } from "./types";

function pagesLabel(citation: Pick<Citation, "page_start" | "page_end">): string {
  return citation.page_end > citation.page_start ? `pages ${citation.page_start}–${citation.page_end}` : `page ${citation.page_start}`;
}

const citationHref = (citation: Citation) => contentUrl(citation.document_id, citation.page_start);

const CARD_WIDTH = 288;

/** `[n]` in an answer: a link to the cited page, with a card showing the passage on hover or focus. */
export function CitationMarker({ citation }: { citation: Citation }) {
  const cardId = useId();
  const { placement, show, hideSoon } = useHoverCard(CARD_WIDTH);

  const pages = pagesLabel(citation);
  return (
    <span onMouseEnter={(e) => show(e.currentTarget)} onMouseLeave={hideSoon}>
      <a
        href={citationHref(citation)}
        target="_blank"
        rel="noopener noreferrer"
        aria-label={`Source ${citation.index}: ${citation.filename} ${pages}`}
        aria-describedby={cardId}
        onFocus={(e) => show(e.currentTarget)}
        onBlur={hideSoon}
        className="mx-0.5 inline-flex h-[1.15rem] min-w-[1.15rem] items-center justify-center rounded bg-blue-100 px-1 align-[0.1em] text-[0.7rem] leading-none font-semibold text-blue-800 no-underline hover:bg-blue-200 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-500 dark:bg-blue-900 dark:text-blue-100 dark:hover:bg-blue-800"
      >
        {citation.index}
      </a>
      <span id={cardId} role="tooltip" hidden={!placement} style={placement ?? undefined} className={hoverCardClass}>
        <span className="block font-medium break-all">{citation.filename}</span>
        <span className="block text-zinc-500 capitalize dark:text-zinc-400">{pages}</span>
        <span className="mt-1.5 line-clamp-6 block text-zinc-700 dark:text-zinc-300">“{citation.snippet}”</span>
      </span>
    </span>
  );
}

/** The passages behind an answer, under a disclosure button. */
export function SourcesList({ citations }: { citations: Citation[] }) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  if (citations.length === 0) return null;
  return (
    <div className="mt-3 border-t border-zinc-200 pt-2 dark:border-zinc-700">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={listId}
        onClick={() => setOpen((v) => !v)}
        className="inline-flex items-center gap-1 rounded text-xs font-medium text-zinc-700 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 dark:text-zinc-300"
      >
        <svg aria-hidden="true" viewBox="0 0 16 16" className={`size-3 transition-transform ${open ? "rotate-90" : ""}`}>
          <path d="M6 3l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="2" />
        </svg>
        Sources ({citations.length})
      </button>
      <ol id={listId} hidden={!open} aria-label="Sources" className="mt-2 space-y-2">
        {citations.map((c) => {
          const pages = pagesLabel(c);
          return (
            <li key={c.index} className="rounded-lg border border-zinc-200 bg-zinc-50 p-2 text-xs dark:border-zinc-800 dark:bg-zinc-900">
              <div className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5">
                <span className="font-semibold">[{c.index}]</span>
                <span className="font-medium break-all">{c.filename}</span>
                <span>{pages}</span>
                <span className="text-zinc-500 dark:text-zinc-400">score {c.score.toFixed(2)}</span>
                <a
                  href={citationHref(c)}
                  target="_blank"
                  rel="noopener noreferrer"
                  aria-label={`Open ${c.filename} at ${pages}`}
                  className="ml-auto text-blue-700 underline-offset-2 hover:underline dark:text-blue-300"
                >
                  Open
                </a>
              </div>
              <p className="mt-1 whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">{c.snippet}</p>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
