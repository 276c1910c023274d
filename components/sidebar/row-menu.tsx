"use client";

import { useEffect, useRef, type KeyboardEvent, type RefObject } from "react";
import { createPortal } from "react-dom";

export type MenuItem = { label: string; onSelect: () => void; danger?: boolean };

const MENU_WIDTH = 176;
const ITEM_HEIGHT = 34;

/**
 * A row's action menu (WAI-ARIA menu button pattern), in a portal so the scrolling list does not
 * clip it: focus starts on the first item, arrows/Home/End move, Escape closes back to the
 * button, Tab or a click elsewhere closes.
 */
export function RowMenu({
  anchor,
  button,
  label,
  items,
  onClose,
}: {
  anchor: DOMRect;
  /** The menu button: a press on it toggles the menu rather than counting as "elsewhere". */
  button: RefObject<HTMLButtonElement | null>;
  label: string;
  items: MenuItem[];
  onClose: (returnFocus: boolean) => void;
}) {
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, []);

  useEffect(() => {
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !button.current?.contains(target)) onClose(false);
    };
    const onViewportChange = () => onClose(false);
    // Only a scroll that moves the button (the sidebar's list, the page) matters, not a reply
    // streaming into the thread next to it.
    const onScroll = (event: Event) => {
      if (event.target instanceof Node && event.target.contains(button.current)) onClose(false);
    };
    document.addEventListener("pointerdown", onPointerDown, true);
    // The menu is placed once, next to its button: when the list scrolls, it closes instead of drifting.
    document.addEventListener("scroll", onScroll, true);
    window.addEventListener("resize", onViewportChange);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown, true);
      document.removeEventListener("scroll", onScroll, true);
      window.removeEventListener("resize", onViewportChange);
    };
  }, [onClose, button]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    const move = (index: number) => buttons[(index + buttons.length) % buttons.length]?.focus();
    if (event.key === "ArrowDown") move(at + 1);
    else if (event.key === "ArrowUp") move(at - 1);
    else if (event.key === "Home") move(0);
    else if (event.key === "End") move(buttons.length - 1);
    else if (event.key === "Escape") onClose(true);
    else if (event.key === "Tab") {
      onClose(false);
      return;
    } else return;
    event.preventDefault();
    event.stopPropagation(); // Escape here must not also close the phone drawer
  };

  const height = items.length * ITEM_HEIGHT + 8;
  const below = anchor.bottom + 4 + height <= window.innerHeight;
  const style = {
    top: below ? anchor.bottom + 4 : Math.max(8, anchor.top - 4 - height),
    left: Math.max(8, Math.min(anchor.right - MENU_WIDTH, window.innerWidth - MENU_WIDTH - 8)),
    width: MENU_WIDTH,
  };

  return createPortal(
    <div
      ref={menuRef}
      role="menu"
      aria-label={label}
      style={style}
      onKeyDown={onKeyDown}
      className="fixed z-[60] rounded-xl border border-zinc-200 bg-white p-1 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-800"
    >
      {items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          tabIndex={-1}
          onClick={() => {
            onClose(true);
            item.onSelect();
          }}
          className={`flex w-full items-center rounded-lg px-3 py-1.5 text-left outline-none hover:bg-zinc-100 focus:bg-zinc-100 dark:hover:bg-zinc-700 dark:focus:bg-zinc-700 ${item.danger ? "text-red-600 dark:text-red-400" : "text-zinc-800 dark:text-zinc-100"}`}
        >
          {item.label}
        </button>
      ))}
    </div>,
    document.body,
  );
}
