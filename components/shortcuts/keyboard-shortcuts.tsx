"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useSyncExternalStore } from "react";
import { ThemeToggle } from "@/components/settings/theme-toggle";
import { Button } from "@/components/ui/button";
import { isMacPlatform, matchShortcut, SHORTCUTS } from "./keys";

/** Dispatch on window to open the shortcuts dialog from anywhere (a menu item, a help button). */
export const OPEN_SHORTCUTS = "bot-gpt:open-shortcuts";

// DOM hooks other components provide: the composer, the sidebar's search box, the Stop button.
const COMPOSER_ID = "chat-input";
const SEARCH_ID = "conversation-search";
const STOP_SELECTOR = '[data-action="stop"]';

function platform(): string {
  const data = (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData;
  return data?.platform || navigator.platform;
}
const noSubscription = () => () => {};

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  // Radios, checkboxes and buttons take no text: "?" on them still opens the help.
  return target.isContentEditable || target.matches('textarea, select, input:not([type="checkbox"], [type="radio"], [type="button"], [type="submit"], [type="reset"], [type="file"], [type="range"], [type="color"])');
}

export function KeyboardShortcuts() {
  const router = useRouter();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const returnFocusRef = useRef<HTMLElement | null>(null);
  const titleId = useId();
  const isMac = useSyncExternalStore(noSubscription, () => isMacPlatform(platform()), () => false);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;

    const open = () => {
      if (dialog.open) return;
      returnFocusRef.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
    };
    const restoreFocus = () => {
      returnFocusRef.current?.focus();
      returnFocusRef.current = null;
    };

    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.repeat) return;
      const stop = document.querySelector<HTMLButtonElement>(STOP_SELECTOR);
      const action = matchShortcut(event, { isMac, typing: isTyping(event.target), streaming: stop !== null });
      // An open modal (this one or another) owns Escape and the keyboard.
      if (!action || (action !== "new-chat" && document.querySelector("dialog[open]"))) return;
      switch (action) {
        case "new-chat":
          event.preventDefault();
          if (dialog.open) dialog.close();
          router.push("/");
          break;
        case "focus-composer": {
          const composer = document.getElementById(COMPOSER_ID);
          if (!composer) return;
          event.preventDefault();
          composer.focus();
          break;
        }
        case "stop":
          event.preventDefault();
          stop?.click();
          break;
        case "search": {
          const search = document.getElementById(SEARCH_ID);
          if (!search) return;
          event.preventDefault();
          // Toggles: from the search box back to the message box.
          if (document.activeElement === search) document.getElementById(COMPOSER_ID)?.focus();
          else search.focus();
          break;
        }
        case "help":
          event.preventDefault();
          open();
          break;
      }
    };

    window.addEventListener("keydown", onKeyDown);
    window.addEventListener(OPEN_SHORTCUTS, open);
    dialog.addEventListener("close", restoreFocus);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
      window.removeEventListener(OPEN_SHORTCUTS, open);
      dialog.removeEventListener("close", restoreFocus);
    };
  }, [isMac, router]);

  return (
    <dialog
      ref={dialogRef}
      aria-labelledby={titleId}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-2xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-zinc-950/50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100"
      onClick={(event) => {
        // A click on the backdrop (the dialog element itself, outside its content) closes it.
        if (event.target === event.currentTarget) event.currentTarget.close();
      }}
    >
      <div className="space-y-5 p-5">
        <div className="flex items-center justify-between gap-4">
          <h2 id={titleId} className="text-base font-semibold">
            Keyboard shortcuts
          </h2>
          <form method="dialog">
            <Button type="submit" variant="ghost" className="-mr-2">
              Close
            </Button>
          </form>
        </div>
        <dl className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
          {SHORTCUTS.map((shortcut) => (
            <div key={shortcut.action} className="flex items-center justify-between gap-4 py-2">
              <dt className="text-zinc-700 dark:text-zinc-300">{shortcut.description}</dt>
              <dd className="flex shrink-0 gap-1">
                {shortcut.keys(isMac).map((key) => (
                  <kbd
                    key={key}
                    className="min-w-7 rounded-md border border-b-2 border-zinc-300 bg-zinc-50 px-1.5 py-0.5 text-center font-sans text-xs font-medium text-zinc-700 dark:border-zinc-600 dark:bg-zinc-800 dark:text-zinc-200"
                  >
                    {key}
                  </kbd>
                ))}
              </dd>
            </div>
          ))}
        </dl>
        <div className="border-t border-zinc-200 pt-4 dark:border-zinc-800">
          <ThemeToggle />
        </div>
      </div>
    </dialog>
  );
}
