"use client";

import { useEffect, useRef, useState } from "react";

/** Where a hover card sits: fixed to the viewport, below its anchor when there is room, else above. */
type Placement = { left: number; width: number; top?: number; bottom?: number };

const CLOSE_DELAY_MS = 120;

/**
 * A card shown while its anchor is hovered or focused (citation passages, a reply's usage).
 * It closes on Escape, and on scroll or resize, which would leave a fixed card behind.
 */
export function useHoverCard(cardWidth: number) {
  const [placement, setPlacement] = useState<Placement | null>(null);
  const closeTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const open = placement !== null;

  useEffect(() => {
    if (!open) return;
    const close = () => setPlacement(null);
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close();
    };
    window.addEventListener("scroll", close, true);
    window.addEventListener("resize", close);
    document.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("scroll", close, true);
      window.removeEventListener("resize", close);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  useEffect(() => () => clearTimeout(closeTimer.current), []);

  function show(anchor: HTMLElement) {
    clearTimeout(closeTimer.current);
    const rect = anchor.getBoundingClientRect();
    const width = Math.min(cardWidth, window.innerWidth - 16);
    const left = Math.min(Math.max(8, rect.left + rect.width / 2 - width / 2), window.innerWidth - width - 8);
    const roomBelow = window.innerHeight - rect.bottom > 200;
    setPlacement(roomBelow ? { left, width, top: rect.bottom + 6 } : { left, width, bottom: window.innerHeight - rect.top + 6 });
  }

  function hideSoon() {
    clearTimeout(closeTimer.current);
    closeTimer.current = setTimeout(() => setPlacement(null), CLOSE_DELAY_MS);
  }

  return { placement, show, hideSoon };
}

/** The card's look; `hidden` cards still describe their anchor (aria-describedby reads hidden content). */
export const hoverCardClass =
  "fixed z-50 block rounded-lg border border-zinc-200 bg-white p-3 text-left text-xs leading-snug font-normal whitespace-normal text-zinc-800 shadow-lg dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100";
