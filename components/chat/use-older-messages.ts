"use client";

import { useState } from "react";
import { fetchOlderMessages } from "./api";
import { toChatMessages, type ChatMessage } from "./types";

type SetMessages = (update: (shown: ChatMessage[]) => ChatMessage[]) => void;

/**
 * The pages of a conversation before the messages shown: `loadOlder` puts the next one above the
 * thread; `reloadNewest` replaces the thread with the server's newest page (after a refused rewind).
 */
export function useOlderMessages(input: { initialCursor: string | null; getConversationId: () => string | null; setMessages: SetMessages }) {
  const [older, setOlder] = useState({ cursor: input.initialCursor, loading: false, error: false });

  async function loadOlder() {
    const id = input.getConversationId();
    if (!id || !older.cursor || older.loading) return;
    setOlder((o) => ({ ...o, loading: true, error: false }));
    const page = await fetchOlderMessages(id, older.cursor).catch(() => null);
    if (!page) {
      setOlder((o) => ({ ...o, loading: false, error: true }));
      return;
    }
    const earlier = toChatMessages(page.data.slice().reverse());
    input.setMessages((shown) => {
      const ids = new Set(shown.map((m) => m.id));
      return [...earlier.filter((m) => !ids.has(m.id)), ...shown];
    });
    setOlder({ cursor: page.next_cursor, loading: false, error: false });
  }

  async function reloadNewest() {
    const id = input.getConversationId();
    if (!id) return;
    const page = await fetchOlderMessages(id, null).catch(() => null);
    if (!page) return;
    input.setMessages(() => toChatMessages(page.data.slice().reverse()));
    setOlder({ cursor: page.next_cursor, loading: false, error: false });
  }

  return { hasOlder: Boolean(older.cursor) && !older.error, loading: older.loading, failed: older.error, loadOlder, reloadNewest };
}
