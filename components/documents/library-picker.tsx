"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { listDocuments } from "./api";
import { documentStatusText, type DocumentResource } from "./types";

/** "Add from library": the user's other documents (minus `hiddenIds`), attachable to this conversation. */
export function LibraryPicker({ hiddenIds, onAttach }: { hiddenIds: string[]; onAttach: (document: DocumentResource) => void }) {
  const listId = useId();
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<DocumentResource[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function load(after?: string) {
    setLoading(true);
    setError(null);
    try {
      const page = await listDocuments(after);
      setItems((previous) => (after && previous ? [...previous, ...page.data] : page.data));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not load your documents.");
    } finally {
      setLoading(false);
    }
  }

  function toggle() {
    const next = !open;
    setOpen(next);
    // Reload on every open: uploads from other chats appear without a page reload.
    if (next) void load();
  }

  const available = (items ?? []).filter((d) => !hiddenIds.includes(d.id));
  return (
    <div>
      <Button type="button" variant="secondary" className="px-2.5 py-1.5 text-xs" aria-expanded={open} aria-controls={listId} onClick={toggle}>
        Add from library
      </Button>
      <div id={listId} hidden={!open} className="mt-2 rounded-lg border border-zinc-200 p-2 dark:border-zinc-700">
        {error ? (
          <p role="alert" className="px-1 py-1 text-xs text-red-700 dark:text-red-400">
            {error}
          </p>
        ) : null}
        {items === null && loading ? <p className="px-1 py-1 text-xs text-zinc-500">Loading your documents…</p> : null}
        {items !== null && available.length === 0 && !loading ? (
          <p className="px-1 py-1 text-xs text-zinc-500">{items.length === 0 ? "Your library is empty: upload a file first." : "Every document in your library is already attached."}</p>
        ) : null}
        <ul aria-label="Your library" className="space-y-1">
          {available.map((d) => (
            <li key={d.id} className="flex items-center gap-2 rounded-md px-1 py-1 text-sm">
              <span className="min-w-0 flex-1 truncate" title={d.filename}>
                {d.filename}
              </span>
              <span className="max-w-[45%] shrink-0 truncate text-xs text-zinc-500 dark:text-zinc-400">{documentStatusText(d)}</span>
              <Button type="button" variant="ghost" className="shrink-0 px-2 py-1 text-xs" aria-label={`Attach ${d.filename}`} onClick={() => onAttach(d)}>
                Attach
              </Button>
            </li>
          ))}
        </ul>
        {cursor ? (
          <Button type="button" variant="ghost" className="mt-1 w-full text-xs" disabled={loading} onClick={() => void load(cursor)}>
            {loading ? "Loading…" : "Load more"}
          </Button>
        ) : null}
      </div>
    </div>
  );
}
