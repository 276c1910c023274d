"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { SignOutButton } from "@/components/settings/sign-out-button";
import { Button } from "@/components/ui/button";
import { SidebarSkeleton } from "@/components/ui/skeleton";
import { ConfirmDeleteDialog } from "./confirm-delete-dialog";
import { ConversationList } from "./conversation-list";
import type { RowActions } from "./conversation-row";
import type { ConversationSummary } from "./groups";
import { SearchBox } from "./search-box";
import { useConversations } from "./use-conversations";

const SIDEBAR_ID = "sidebar";

/** The conversation sidebar: a column on wide screens, a drawer behind the Menu button on phones. */
export function Sidebar({ userEmail }: { userEmail: string }) {
  const pathname = usePathname();
  const router = useRouter();
  const activeId = pathname.startsWith("/c/") ? pathname.slice(3) : null;
  // The drawer is open for the page it was opened on: navigating anywhere closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const [confirming, setConfirming] = useState<ConversationSummary | null>(null);
  const data = useConversations();
  const menuButtonRef = useRef<HTMLButtonElement>(null);
  const closeButtonRef = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);

  useEffect(() => {
    if (open) closeButtonRef.current?.focus();
    else if (wasOpen.current) menuButtonRef.current?.focus();
    wasOpen.current = open;
  }, [open]);

  const close = () => setOpenOn(null);
  const { rename, togglePinned, setArchived } = data;
  const leaveIfOpen = (conversation: ConversationSummary) => {
    if (conversation.id === activeId) router.push("/");
  };
  const actions: RowActions = {
    onNavigate: close,
    // The open conversation's header shows its title too: re-render the page once the new one is saved.
    onRename: (conversation, title) => rename(conversation, title, conversation.id === activeId ? () => router.refresh() : undefined),
    onTogglePinned: (conversation) => void togglePinned(conversation),
    onArchive: (conversation, archived) => {
      if (archived) leaveIfOpen(conversation);
      void setArchived(conversation, archived);
    },
    onDelete: setConfirming,
  };

  const archivedView = data.view === "archived";
  const emptyText = data.searchedFor ? `No conversations match “${data.searchedFor}”.` : archivedView ? "No archived conversations." : "No conversations yet.";

  return (
    <>
      <button
        ref={menuButtonRef}
        type="button"
        className="fixed top-3 left-3 z-30 inline-flex items-center gap-1.5 rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm font-medium shadow-sm outline-none focus-visible:ring-2 focus-visible:ring-blue-500 md:hidden dark:border-zinc-700 dark:bg-zinc-900"
        aria-expanded={open}
        aria-controls={SIDEBAR_ID}
        onClick={() => setOpenOn(open ? null : pathname)}
      >
        <svg aria-hidden="true" viewBox="0 0 16 16" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round">
          <path d="M2.5 4h11M2.5 8h11M2.5 12h11" />
        </svg>
        Menu
      </button>
      <div
        aria-hidden="true"
        data-testid="sidebar-backdrop"
        onClick={close}
        className={`fixed inset-0 z-30 bg-black/40 transition-opacity motion-reduce:transition-none md:hidden ${open ? "opacity-100" : "pointer-events-none opacity-0"}`}
      />
      <nav
        id={SIDEBAR_ID}
        aria-label="Conversations"
        onKeyDown={(event) => {
          if (event.key === "Escape" && open) {
            event.preventDefault();
            close();
          }
        }}
        className={`fixed inset-y-0 left-0 z-40 flex w-72 max-w-[85vw] flex-col border-r border-zinc-200 bg-zinc-50 duration-200 motion-reduce:transition-none md:visible md:static md:translate-x-0 md:transition-none dark:border-zinc-800 dark:bg-zinc-900 ${
          // Visibility flips at once on opening (so focus can move in) and at the end of the slide on closing.
          open ? "visible translate-x-0 shadow-xl transition-transform" : "invisible -translate-x-full transition-[transform,visibility]"
        }`}
      >
        <div className="space-y-2 p-2 pb-1">
          <div className="flex items-center gap-1">
            <Link
              href="/"
              onClick={close}
              className="flex flex-1 items-center gap-2 rounded-lg px-2.5 py-2 text-sm font-medium text-zinc-900 outline-none hover:bg-zinc-200/70 focus-visible:ring-2 focus-visible:ring-blue-500 dark:text-zinc-100 dark:hover:bg-zinc-800"
            >
              <svg aria-hidden="true" viewBox="0 0 16 16" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round">
                <path d="M11.5 2.5l2 2L7 11H5V9z" />
                <path d="M13 9.5V13a.5.5 0 0 1-.5.5h-9a.5.5 0 0 1-.5-.5v-9a.5.5 0 0 1 .5-.5H7" />
              </svg>
              New chat
            </Link>
            <button
              ref={closeButtonRef}
              type="button"
              aria-label="Close sidebar"
              onClick={close}
              className="grid size-9 place-items-center rounded-lg text-zinc-500 outline-none hover:bg-zinc-200/70 focus-visible:ring-2 focus-visible:ring-blue-500 md:hidden dark:hover:bg-zinc-800"
            >
              <svg aria-hidden="true" viewBox="0 0 16 16" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round">
                <path d="M4 4l8 8M12 4l-8 8" />
              </svg>
            </button>
          </div>
          <SearchBox value={data.query} onChange={data.setQuery} />
          {archivedView ? (
            <div className="flex items-center justify-between gap-2 px-1">
              <h2 className="px-1.5 text-sm font-semibold text-zinc-800 dark:text-zinc-200">Archived</h2>
              <button
                type="button"
                onClick={() => data.setView("active")}
                className="rounded-md px-2 py-1 text-xs font-medium text-zinc-600 outline-none hover:bg-zinc-200/70 focus-visible:ring-2 focus-visible:ring-blue-500 dark:text-zinc-400 dark:hover:bg-zinc-800"
              >
                ← Back to conversations
              </button>
            </div>
          ) : null}
        </div>
        {data.actionError ? (
          <div role="alert" className="mx-2 mb-1 flex items-start gap-2 rounded-lg bg-red-50 px-2.5 py-2 text-xs text-red-700 dark:bg-red-950/60 dark:text-red-300">
            <span className="flex-1">{data.actionError}</span>
            <button type="button" aria-label="Dismiss" onClick={data.dismissError} className="rounded px-1 outline-none hover:bg-red-100 focus-visible:ring-2 focus-visible:ring-red-500 dark:hover:bg-red-900">
              ×
            </button>
          </div>
        ) : null}
        {data.status === "loading" ? (
          <SidebarSkeleton />
        ) : data.status === "error" ? (
          <div role="alert" className="mx-2 mt-2 space-y-2 rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-700 dark:border-red-900 dark:bg-red-950/60 dark:text-red-300">
            <p>Could not load conversations.</p>
            <Button variant="secondary" onClick={data.retry} className="py-1">
              Retry
            </Button>
          </div>
        ) : data.rows.length === 0 && !data.busy ? (
          <p className="px-4 py-3 text-sm text-zinc-500 dark:text-zinc-400">{emptyText}</p>
        ) : (
          <ConversationList
            rows={data.rows}
            activeId={activeId}
            archivedView={archivedView}
            actions={actions}
            hasMore={data.hasMore}
            loadingMore={data.loadingMore}
            loadMoreFailed={data.loadMoreFailed}
            onLoadMore={(options) => void data.loadMore(options)}
            busy={data.busy}
          />
        )}
        <div className="mt-auto border-t border-zinc-200 p-2 text-sm dark:border-zinc-800">
          {archivedView ? null : (
            <button
              type="button"
              onClick={() => data.setView("archived")}
              className="flex w-full items-center gap-2 rounded-lg px-2.5 py-1.5 text-zinc-700 outline-none hover:bg-zinc-200/70 focus-visible:ring-2 focus-visible:ring-blue-500 dark:text-zinc-300 dark:hover:bg-zinc-800"
            >
              <svg aria-hidden="true" viewBox="0 0 16 16" className="size-4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round">
                <path d="M2 3.5h12v3H2zM3 6.5v6h10v-6M6.5 9h3" />
              </svg>
              Archived
            </button>
          )}
          <div className="flex gap-3 px-2.5 pt-1.5 pb-1 text-xs">
            <Link href="/settings" onClick={close} className="text-zinc-600 hover:text-zinc-900 hover:underline dark:text-zinc-400 dark:hover:text-zinc-100">
              Settings
            </Link>
            <Link href="/settings/api-keys" onClick={close} className="text-zinc-600 hover:text-zinc-900 hover:underline dark:text-zinc-400 dark:hover:text-zinc-100">
              API keys
            </Link>
            <Link href="/settings/usage" onClick={close} className="text-zinc-600 hover:text-zinc-900 hover:underline dark:text-zinc-400 dark:hover:text-zinc-100">
              Usage
            </Link>
            <Link href="/docs/api" className="text-zinc-600 hover:text-zinc-900 hover:underline dark:text-zinc-400 dark:hover:text-zinc-100">
              API docs
            </Link>
          </div>
          <div className="flex items-center justify-between gap-2 pt-1 pl-2.5">
            <span className="truncate text-xs text-zinc-600 dark:text-zinc-400" title={userEmail}>
              {userEmail}
            </span>
            <SignOutButton variant="ghost" className="shrink-0 py-1.5 whitespace-nowrap" />
          </div>
        </div>
      </nav>
      <ConfirmDeleteDialog
        conversation={confirming}
        onCancel={() => setConfirming(null)}
        onConfirm={(conversation) => {
          setConfirming(null);
          leaveIfOpen(conversation);
          data.requestDelete(conversation);
        }}
      />
      <div role="status" aria-live="polite" className="pointer-events-none fixed bottom-24 left-1/2 z-50 max-w-[calc(100vw-2rem)] -translate-x-1/2">
        {data.pendingDelete ? (
          <div className="pointer-events-auto flex items-center gap-3 rounded-xl bg-zinc-900 py-2 pr-2 pl-4 text-sm text-white shadow-lg dark:bg-zinc-100 dark:text-zinc-900">
            <span>Conversation deleted</span>
            <button
              type="button"
              onClick={data.undoDelete}
              className="rounded-lg px-2.5 py-1 font-semibold text-blue-300 outline-none hover:bg-white/10 focus-visible:ring-2 focus-visible:ring-blue-400 dark:text-blue-700 dark:hover:bg-black/5"
            >
              Undo
            </button>
          </div>
        ) : null}
      </div>
    </>
  );
}
