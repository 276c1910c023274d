"use client";

import { signOut } from "next-auth/react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { CONVERSATIONS_CHANGED } from "@/components/chat/events";

type Summary = { id: string; title: string; last_message_at: string | null };
type Page = { data: Summary[]; next_cursor: string | null };

export function Sidebar({ userEmail }: { userEmail: string }) {
  const pathname = usePathname();
  const router = useRouter();
  const [items, setItems] = useState<Summary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(async (cursor?: string) => {
    try {
      const response = await fetch(`/api/v1/conversations?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      if (!response.ok) throw new Error(String(response.status));
      const page = (await response.json()) as Page;
      setItems((previous) => (cursor ? [...previous, ...page.data] : page.data));
      setNextCursor(page.next_cursor);
      setLoadError(null);
    } catch {
      setLoadError("Could not load conversations.");
    }
  }, []);

  useEffect(() => {
    const refresh = () => void load();
    refresh();
    window.addEventListener(CONVERSATIONS_CHANGED, refresh);
    return () => window.removeEventListener(CONVERSATIONS_CHANGED, refresh);
  }, [load]);

  return (
    <>
      <button
        type="button"
        className="fixed top-3 left-3 z-30 rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm md:hidden dark:border-zinc-700 dark:bg-zinc-900"
        aria-expanded={open}
        aria-controls="sidebar"
        onClick={() => setOpen((v) => !v)}
      >
        {open ? "Close" : "Menu"}
      </button>
      <nav
        id="sidebar"
        aria-label="Conversations"
        className={`${open ? "flex" : "hidden"} fixed inset-y-0 left-0 z-20 w-72 flex-col border-r border-zinc-200 bg-zinc-50 pt-14 md:static md:flex md:pt-0 dark:border-zinc-800 dark:bg-zinc-900`}
      >
        <div className="p-3">
          <Link
            href="/"
            onClick={() => setOpen(false)}
            className="flex w-full items-center justify-center rounded-lg bg-zinc-900 px-3 py-2 text-sm font-medium text-white hover:bg-zinc-700 dark:bg-zinc-100 dark:text-zinc-900"
          >
            New chat
          </Link>
        </div>
        <ul className="flex-1 space-y-0.5 overflow-y-auto px-2" data-testid="conversation-list">
          {items.map((item) => {
            const active = pathname === `/c/${item.id}`;
            return (
              <li key={item.id}>
                <Link
                  href={`/c/${item.id}`}
                  aria-current={active ? "page" : undefined}
                  onClick={() => setOpen(false)}
                  className={`block truncate rounded-lg px-3 py-2 text-sm ${active ? "bg-zinc-200 font-medium dark:bg-zinc-800" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"}`}
                >
                  {item.title}
                </Link>
              </li>
            );
          })}
          {items.length === 0 && !loadError ? <li className="px-3 py-2 text-sm text-zinc-500">No conversations yet.</li> : null}
          {loadError ? (
            <li role="alert" className="px-3 py-2 text-sm text-red-600">
              {loadError}
            </li>
          ) : null}
          {nextCursor ? (
            <li>
              <Button variant="ghost" className="w-full" onClick={() => void load(nextCursor)}>
                Load more
              </Button>
            </li>
          ) : null}
        </ul>
        <div className="flex gap-3 border-t border-zinc-200 px-3 pt-3 text-sm dark:border-zinc-800">
          <Link href="/settings/api-keys" onClick={() => setOpen(false)} className="text-zinc-700 hover:underline dark:text-zinc-300">
            API keys
          </Link>
          <Link href="/settings/usage" onClick={() => setOpen(false)} className="text-zinc-700 hover:underline dark:text-zinc-300">
            Usage
          </Link>
          <Link href="/docs/api" className="text-zinc-700 hover:underline dark:text-zinc-300">
            API docs
          </Link>
        </div>
        <div className="flex items-center justify-between gap-2 p-3 text-sm">
          <span className="truncate text-zinc-600 dark:text-zinc-400" title={userEmail}>
            {userEmail}
          </span>
          <Button
            variant="ghost"
            className="shrink-0 whitespace-nowrap"
            onClick={async () => {
              // No server redirect: next-auth would build it from NEXTAUTH_URL, unset by default.
              await signOut({ redirect: false });
              router.replace("/sign-in");
              router.refresh();
            }}
          >
            Sign out
          </Button>
        </div>
      </nav>
    </>
  );
}
