"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef } from "react";
import { ConversationRow, type RowActions } from "./conversation-row";
import type { SidebarRow } from "./groups";

const ROW_HEIGHT = 36;
const HEADING_HEIGHT = 32;
const FOOTER_HEIGHT = 44;
/** Start on the next page while this many rows are still below the visible ones. */
const PREFETCH_ROWS = 20;

/**
 * The conversation rows and their group headings as one virtual list: only the rows in view (and
 * a few around them) are in the DOM, and the next cursor page loads as the end comes near.
 */
export function ConversationList({
  rows,
  activeId,
  archivedView,
  actions,
  hasMore,
  loadingMore,
  loadMoreFailed,
  onLoadMore,
  busy,
}: {
  rows: SidebarRow[];
  activeId: string | null;
  archivedView: boolean;
  actions: RowActions;
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreFailed: boolean;
  onLoadMore: (options?: { retry?: boolean }) => void;
  busy: boolean;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const footer = hasMore || loadMoreFailed;
  // The virtualizer is read during render by design; nothing here relies on compiler memoization.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length + (footer ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => {
      const row = rows[index];
      return row ? (row.kind === "heading" ? HEADING_HEIGHT : ROW_HEIGHT) : FOOTER_HEIGHT;
    },
    getItemKey: (index) => rows[index]?.key ?? "footer",
    overscan: 8,
    onChange: (instance) => {
      const last = instance.getVirtualItems().at(-1);
      if (hasMore && last && last.index >= rows.length - PREFETCH_ROWS) onLoadMore();
    },
  });

  return (
    <div ref={scrollRef} className="min-h-0 flex-1 overflow-y-auto overscroll-contain px-2 pb-2" data-testid="conversation-list" aria-busy={busy || loadingMore}>
      <div role="list" aria-label={archivedView ? "Archived conversations" : "Conversation history"} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const row = rows[item.index];
          return (
            <div
              key={item.key}
              role="listitem"
              aria-setsize={rows.length}
              aria-posinset={item.index + 1}
              className="absolute top-0 left-0 w-full"
              style={{ height: item.size, transform: `translateY(${item.start}px)` }}
            >
              {!row ? (
                <div className="flex h-full items-center justify-center text-xs text-zinc-500 dark:text-zinc-400">
                  {loadMoreFailed ? (
                    <span role="alert" className="flex items-center gap-2">
                      Could not load more.
                      <button
                        type="button"
                        onClick={() => onLoadMore({ retry: true })}
                        className="rounded-md px-2 py-1 font-medium text-zinc-800 underline outline-none hover:bg-zinc-200 focus-visible:ring-2 focus-visible:ring-blue-500 dark:text-zinc-200 dark:hover:bg-zinc-800"
                      >
                        Retry
                      </button>
                    </span>
                  ) : (
                    <span>Loading more…</span>
                  )}
                </div>
              ) : row.kind === "heading" ? (
                <h3 className="flex h-full items-end px-2.5 pb-1.5 text-xs font-medium text-zinc-500 dark:text-zinc-400">{row.label}</h3>
              ) : (
                <ConversationRow conversation={row.conversation} active={row.conversation.id === activeId} archivedView={archivedView} actions={actions} />
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
