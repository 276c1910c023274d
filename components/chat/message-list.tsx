"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import type { ChatMessage } from "./types";

type Props = {
  messages: ChatMessage[];
  renderMessage: (message: ChatMessage, index: number) => ReactNode;
  /** Changes whenever the thread's content grows (a new message, a streamed token). */
  growKey: string;
  /** Bumped by the parent when the reader sent something: the view goes back to the newest message. */
  followKey: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** Shown instead of the list when there are no messages. */
  empty: ReactNode;
  /** Under the list (a send error, for one). */
  footer?: ReactNode;
};

/** Within this many pixels of the end counts as "at the newest message". */
const NEAR_END_PX = 80;
/** Older messages start loading this far before the reader reaches the top. */
const NEAR_TOP_PX = 600;

/**
 * The thread, virtualized: only the messages near the viewport are in the DOM, so a conversation
 * of thousands of messages scrolls like a short one. It follows a growing reply while the reader
 * is at the end and stops when they scroll up (a "Jump to latest" button brings them back), and it
 * loads older pages as the top comes near, keeping what the reader is looking at in place.
 */
export function MessageList({ messages, renderMessage, growKey, followKey, hasOlder, loadingOlder, onLoadOlder, empty, footer }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  // Whether the view sticks to the end as content grows; cleared by scrolling up.
  const following = useRef(true);
  const lastScrollTop = useRef(0);
  // The first message shown before older ones were put above it, to keep it where it was.
  const anchor = useRef<{ id: string; scrollTop: number } | null>(null);
  const [showJump, setShowJump] = useState(false);

  // eslint-disable-next-line react-hooks/incompatible-library -- the React Compiler is not enabled; the virtualizer is read fresh each render
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 140,
    getItemKey: (index) => messages[index]?.id ?? index,
    overscan: 6,
    paddingStart: 24,
    paddingEnd: 24,
  });
  const items = virtualizer.getVirtualItems();
  const totalSize = virtualizer.getTotalSize();

  function scrollToEnd() {
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
  }

  // Follow the end while the reader is there: new messages, streamed text, re-measured heights.
  useLayoutEffect(() => {
    if (following.current) scrollToEnd();
  }, [growKey, totalSize]);

  // The reader sent a message: show it, whatever they were reading.
  useLayoutEffect(() => {
    following.current = true;
    scrollToEnd();
  }, [followKey]);

  // Older messages went in above: put the message that was first back where the reader saw it.
  const firstId = messages[0]?.id;
  useLayoutEffect(() => {
    const held = anchor.current;
    const element = scroller.current;
    if (!held || !element || held.id === firstId) return;
    anchor.current = null;
    const index = messages.findIndex((m) => m.id === held.id);
    const moved = index > 0 ? virtualizer.getOffsetForIndex(index, "start")?.[0] : undefined;
    if (moved !== undefined) element.scrollTop = held.scrollTop + moved;
  }, [firstId, messages, virtualizer]);

  function loadOlderIfNear() {
    const element = scroller.current;
    if (!element || !hasOlder || loadingOlder || anchor.current) return;
    if (element.scrollTop > NEAR_TOP_PX) return;
    if (firstId) anchor.current = { id: firstId, scrollTop: element.scrollTop };
    onLoadOlder();
  }

  // A first page shorter than the viewport cannot be scrolled: load more until it can. (Checked
  // when the thread's length changes, not per streamed token: reading scrollHeight forces a layout.)
  const count = messages.length;
  useEffect(() => {
    const element = scroller.current;
    if (element && hasOlder && !loadingOlder && element.scrollHeight <= element.clientHeight + NEAR_TOP_PX) {
      loadOlderIfNear();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loadOlderIfNear reads the latest props; re-checking on every render is what this avoids
  }, [count, hasOlder, loadingOlder]);

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    const fromEnd = element.scrollHeight - element.scrollTop - element.clientHeight;
    const scrolledUp = element.scrollTop < lastScrollTop.current;
    lastScrollTop.current = element.scrollTop;
    if (fromEnd <= NEAR_END_PX) following.current = true;
    else if (scrolledUp) following.current = false;
    setShowJump(!following.current);
    loadOlderIfNear();
  }

  function jumpToLatest() {
    following.current = true;
    setShowJump(false);
    if (messages.length > 0) virtualizer.scrollToIndex(messages.length - 1, { align: "end" });
    requestAnimationFrame(scrollToEnd);
  }

  return (
    <div className="relative min-h-0 flex-1">
      <div ref={scroller} onScroll={onScroll} className="h-full overflow-y-auto px-4" data-testid="message-scroller">
        {messages.length === 0 ? empty : null}
        {hasOlder ? (
          <p className="mx-auto max-w-3xl pt-4 text-center text-xs text-zinc-500 dark:text-zinc-400" aria-live="polite">
            {loadingOlder ? "Loading earlier messages…" : (
              <button type="button" onClick={onLoadOlder} className="rounded-md px-2 py-1 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-blue-500">
                Load earlier messages
              </button>
            )}
          </p>
        ) : null}
        {/* Announcing every streamed token would drown a screen reader; the chat announces finished replies instead. */}
        <div role="log" aria-live="off" aria-label="Messages" className="mx-auto max-w-3xl">
          <ol className="relative" style={{ height: totalSize }}>
            {items.map((item) => {
              const message = messages[item.index];
              if (!message) return null;
              return (
                <li
                  key={item.key}
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  className="absolute top-0 left-0 w-full pb-4"
                  style={{ transform: `translateY(${item.start}px)` }}
                >
                  {renderMessage(message, item.index)}
                </li>
              );
            })}
          </ol>
        </div>
        {footer}
      </div>
      {showJump && messages.length > 0 ? (
        <button
          type="button"
          onClick={jumpToLatest}
          className="absolute bottom-4 left-1/2 -translate-x-1/2 rounded-full border border-zinc-300 bg-white px-3 py-1.5 text-xs font-medium text-zinc-700 shadow-md hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200 dark:hover:bg-zinc-800"
        >
          ↓ Jump to latest
        </button>
      ) : null}
    </div>
  );
}
