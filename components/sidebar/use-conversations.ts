"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { apiCall } from "@/components/api-client";
import { CONVERSATIONS_CHANGED } from "@/components/chat/events";
import { buildRows, type ConversationSummary, type SidebarRow } from "./groups";

type SidebarView = "active" | "archived";

const PAGE_SIZE = 50;
const PINNED_PAGE = 100;
const SEARCH_DEBOUNCE_MS = 250;
const UNDO_MS = 5_000;

type Page = { data: ConversationSummary[]; next_cursor: string | null };
type Lists = { key: string; view: SidebarView; q: string; pinned: ConversationSummary[]; items: ConversationSummary[]; nextCursor: string | null };
type First = Pick<Lists, "pinned" | "items" | "nextCursor">;

/** Pinned conversations get a request of their own only in the plain list; a search or the archive is one list. */
function splitsPinned(view: SidebarView, q: string): boolean {
  return view === "active" && !q;
}

async function fetchPage(params: Record<string, string | undefined>, signal?: AbortSignal): Promise<Page> {
  const search = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  return apiCall(`/conversations?${search}`, { signal, fallback: "Could not load conversations." });
}

/** Every pinned conversation (they all sit on top), in pages of the API's largest size. */
async function fetchAllPinned(archived: string, signal?: AbortSignal): Promise<ConversationSummary[]> {
  const pinned: ConversationSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage({ archived, pinned: "true", limit: String(PINNED_PAGE), cursor }, signal);
    pinned.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return pinned;
}

async function fetchFirst(view: SidebarView, q: string, signal?: AbortSignal): Promise<First> {
  const archived = String(view === "archived");
  if (!splitsPinned(view, q)) {
    const page = await fetchPage({ archived, q }, signal);
    return { pinned: [], items: page.data, nextCursor: page.next_cursor };
  }
  const [pinned, rest] = await Promise.all([fetchAllPinned(archived, signal), fetchPage({ archived, pinned: "false" }, signal)]);
  return { pinned, items: rest.data, nextCursor: rest.next_cursor };
}

async function patchConversation(id: string, body: Partial<Pick<ConversationSummary, "title" | "pinned" | "archived">>): Promise<ConversationSummary> {
  return apiCall(`/conversations/${id}`, { method: "PATCH", body, fallback: "Could not update the conversation." });
}

/** keepalive lets the request outlive the page when it is sent on unload; already gone is done. */
async function deleteConversation(id: string): Promise<void> {
  await apiCall(`/conversations/${id}`, { method: "DELETE", keepalive: true, accept: [404], fallback: "Could not delete the conversation." });
}

function appendUnique(list: ConversationSummary[], more: ConversationSummary[]): ConversationSummary[] {
  const ids = new Set(list.map((c) => c.id));
  return [...list, ...more.filter((c) => !ids.has(c.id))];
}

/**
 * A refreshed first page replaces the top of what is loaded; rows loaded further down stay (so the
 * scroll position holds) unless they came back in the new first page.
 */
function mergeFirst(previous: Lists, first: First): Lists {
  if (first.nextCursor === null || previous.items.length <= PAGE_SIZE) return { ...previous, ...first };
  const fresh = new Set([...first.pinned, ...first.items].map((c) => c.id));
  return { ...previous, pinned: first.pinned, items: [...first.items, ...previous.items.filter((c) => !fresh.has(c.id))] };
}

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/**
 * The sidebar's data: the list (pinned apart, then cursor pages), search, the archive view, and
 * optimistic rename/pin/archive/delete with a short undo window before a delete is sent.
 */
export function useConversations() {
  const [view, setView] = useState<SidebarView>("active");
  const [query, setQuery] = useState("");
  const [q, setQ] = useState("");
  const key = `${view}\n${q}`;
  const [lists, setLists] = useState<Lists | null>(null);
  const [failedKey, setFailedKey] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const [now, setNow] = useState(() => new Date());
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadMoreFailed, setLoadMoreFailed] = useState(false);
  const [overrides, setOverrides] = useState<Record<string, Partial<ConversationSummary>>>({});
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [actionError, setActionError] = useState<string | null>(null);
  const [pendingDelete, setPendingDelete] = useState<ConversationSummary | null>(null);

  const listsRef = useRef<Lists | null>(null);
  const keyRef = useRef({ key, view, q });
  const loadingMoreRef = useRef(false);
  const loadMoreFailedRef = useRef(false);
  const pendingRef = useRef<ConversationSummary | null>(null);
  const undoTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    listsRef.current = lists;
    keyRef.current = { key, view, q };
  });

  // Typing waits for a pause; clearing the box answers at once.
  useEffect(() => {
    const trimmed = query.trim();
    const timer = setTimeout(() => setQ(trimmed), trimmed ? SEARCH_DEBOUNCE_MS : 0);
    return () => clearTimeout(timer);
  }, [query]);

  useEffect(() => {
    const controller = new AbortController();
    fetchFirst(view, q, controller.signal).then(
      (first) => {
        setLists({ key, view, q, ...first });
        setFailedKey(null);
        setNow(new Date());
        loadMoreFailedRef.current = false;
        setLoadMoreFailed(false);
      },
      () => {
        if (!controller.signal.aborted) setFailedKey(key);
      },
    );
    return () => controller.abort();
  }, [key, view, q, reloads]);

  const refresh = useCallback(async () => {
    const current = keyRef.current;
    try {
      const first = await fetchFirst(current.view, current.q);
      setLists((previous) => (previous?.key === current.key ? mergeFirst(previous, first) : previous));
      setNow(new Date());
    } catch {
      // A background refresh that fails leaves the list as it was; the next change retries.
    }
  }, []);

  useEffect(() => {
    const onChanged = () => void refresh();
    window.addEventListener(CONVERSATIONS_CHANGED, onChanged);
    return () => window.removeEventListener(CONVERSATIONS_CHANGED, onChanged);
  }, [refresh]);

  const loadMore = useCallback(async ({ retry = false }: { retry?: boolean } = {}) => {
    const current = listsRef.current;
    if (!current?.nextCursor || loadingMoreRef.current || (loadMoreFailedRef.current && !retry)) return;
    loadingMoreRef.current = true;
    loadMoreFailedRef.current = false;
    setLoadingMore(true);
    setLoadMoreFailed(false);
    try {
      const page = await fetchPage({
        archived: String(current.view === "archived"),
        q: current.q,
        pinned: splitsPinned(current.view, current.q) ? "false" : undefined,
        cursor: current.nextCursor,
      });
      setLists((previous) =>
        previous?.key === current.key && previous.nextCursor === current.nextCursor
          ? { ...previous, items: appendUnique(previous.items, page.data), nextCursor: page.next_cursor }
          : previous,
      );
    } catch {
      loadMoreFailedRef.current = true;
      setLoadMoreFailed(true);
    } finally {
      loadingMoreRef.current = false;
      setLoadingMore(false);
    }
  }, []);

  const hide = (id: string, hiddenNow: boolean) =>
    setHidden((previous) => {
      const next = new Set(previous);
      if (hiddenNow) next.add(id);
      else next.delete(id);
      return next;
    });

  const removeFromLists = (id: string) =>
    setLists((previous) => previous && { ...previous, pinned: previous.pinned.filter((c) => c.id !== id), items: previous.items.filter((c) => c.id !== id) });

  const replaceInLists = (updated: ConversationSummary) =>
    setLists(
      (previous) =>
        previous && {
          ...previous,
          pinned: previous.pinned.map((c) => (c.id === updated.id ? updated : c)),
          items: previous.items.map((c) => (c.id === updated.id ? updated : c)),
        },
    );

  /** Shows the change at once; on failure the row goes back to what the server has. */
  const update = async (conversation: ConversationSummary, patch: { title?: string; pinned?: boolean }, failure: string, onSaved?: () => void) => {
    setActionError(null);
    setOverrides((previous) => ({ ...previous, [conversation.id]: { ...previous[conversation.id], ...patch } }));
    try {
      replaceInLists(await patchConversation(conversation.id, patch));
      onSaved?.();
    } catch {
      setActionError(failure);
    } finally {
      setOverrides((previous) => withoutKey(previous, conversation.id));
    }
  };

  const rename = (conversation: ConversationSummary, title: string, onSaved?: () => void): boolean => {
    const trimmed = title.trim();
    if (!trimmed) return false;
    if (trimmed !== conversation.title) void update(conversation, { title: trimmed }, `Could not rename “${conversation.title}”.`, onSaved);
    return true;
  };

  const togglePinned = async (conversation: ConversationSummary) => {
    const pinned = !conversation.pinned;
    await update(conversation, { pinned }, `Could not ${pinned ? "pin" : "unpin"} “${conversation.title}”.`);
    await refresh(); // the pinned list and the rest come back in the server's order
  };

  const setArchived = async (conversation: ConversationSummary, archived: boolean) => {
    setActionError(null);
    hide(conversation.id, true);
    try {
      await patchConversation(conversation.id, { archived });
      removeFromLists(conversation.id);
    } catch {
      setActionError(`Could not ${archived ? "archive" : "unarchive"} “${conversation.title}”.`);
    } finally {
      hide(conversation.id, false);
    }
  };

  const commitDelete = useCallback(async () => {
    const conversation = pendingRef.current;
    clearTimeout(undoTimer.current);
    if (!conversation) return;
    pendingRef.current = null;
    setPendingDelete(null);
    try {
      await deleteConversation(conversation.id);
      removeFromLists(conversation.id);
    } catch {
      setActionError(`Could not delete “${conversation.title}”.`);
    } finally {
      hide(conversation.id, false);
    }
  }, []);

  /** Hides the row now; the DELETE goes out when the undo window closes (or the page goes away). */
  const requestDelete = (conversation: ConversationSummary) => {
    void commitDelete(); // one pending delete at a time: an earlier one is sent now
    setActionError(null);
    hide(conversation.id, true);
    pendingRef.current = conversation;
    setPendingDelete(conversation);
    undoTimer.current = setTimeout(() => void commitDelete(), UNDO_MS);
  };

  const undoDelete = () => {
    const conversation = pendingRef.current;
    clearTimeout(undoTimer.current);
    pendingRef.current = null;
    setPendingDelete(null);
    if (conversation) hide(conversation.id, false);
  };

  useEffect(() => {
    const flush = () => void commitDelete();
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      flush();
    };
  }, [commitDelete]);

  const showing = lists?.view === view ? lists : null;
  const rows: SidebarRow[] = useMemo(() => {
    if (!showing) return [];
    const seen = new Set<string>();
    const all: ConversationSummary[] = [];
    for (const conversation of [...showing.pinned, ...showing.items]) {
      if (hidden.has(conversation.id) || seen.has(conversation.id)) continue;
      seen.add(conversation.id);
      const override = overrides[conversation.id];
      all.push(override ? { ...conversation, ...override } : conversation);
    }
    if (showing.view === "archived") return buildRows({ pinned: [], rest: all, now });
    return buildRows({ pinned: all.filter((c) => c.pinned), rest: all.filter((c) => !c.pinned), now });
  }, [showing, hidden, overrides, now]);

  const status: "loading" | "error" | "ready" = failedKey === key ? "error" : showing ? "ready" : "loading";

  return {
    view,
    setView: (next: SidebarView) => {
      setView(next);
      setQuery("");
    },
    query,
    setQuery,
    /** The search the shown rows answer (may trail the box while typing). */
    searchedFor: showing?.q ?? "",
    status,
    busy: status === "ready" && showing?.key !== key,
    rows,
    hasMore: Boolean(showing?.nextCursor),
    loadingMore,
    loadMoreFailed,
    loadMore,
    retry: () => {
      setFailedKey(null);
      setReloads((n) => n + 1);
    },
    rename,
    togglePinned,
    setArchived,
    requestDelete,
    undoDelete,
    pendingDelete,
    actionError,
    dismissError: () => setActionError(null),
  };
}
