"use client";

import Link from "next/link";
import { useCallback, useRef, useState, type KeyboardEvent } from "react";
import type { ConversationSummary } from "./groups";
import { RowMenu, type MenuItem } from "./row-menu";

export type RowActions = {
  onNavigate: () => void;
  /** Returns false when the title is refused (blank), so the input stays open. */
  onRename: (conversation: ConversationSummary, title: string) => boolean;
  onTogglePinned: (conversation: ConversationSummary) => void;
  onArchive: (conversation: ConversationSummary, archived: boolean) => void;
  onDelete: (conversation: ConversationSummary) => void;
};

function DotsIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 16 16" className="size-4" fill="currentColor">
      <circle cx="3" cy="8" r="1.4" />
      <circle cx="8" cy="8" r="1.4" />
      <circle cx="13" cy="8" r="1.4" />
    </svg>
  );
}

function PinIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3.5 shrink-0 text-zinc-400" fill="currentColor">
      <path d="M10.5 1.5a.75.75 0 0 1 .53.22l3.25 3.25a.75.75 0 0 1-.22 1.22l-2.4.96-2.02 2.02.43 2.57a.75.75 0 0 1-1.27.65L6.5 10.06 3.28 13.28a.75.75 0 0 1-1.06-1.06L5.44 9 3.1 6.65a.75.75 0 0 1 .65-1.27l2.57.43 2.02-2.02.96-2.4a.75.75 0 0 1 .7-.47Z" />
    </svg>
  );
}

/** One conversation: a link named by its title, a "More actions" menu button, and inline rename. */
export function ConversationRow({
  conversation,
  active,
  archivedView,
  actions,
}: {
  conversation: ConversationSummary;
  active: boolean;
  archivedView: boolean;
  actions: RowActions;
}) {
  const [editing, setEditing] = useState(false);
  const [invalid, setInvalid] = useState(false);
  const [menuAt, setMenuAt] = useState<DOMRect | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const linkRef = useRef<HTMLAnchorElement>(null);
  // Set once Enter or Escape has settled the rename, so the blur that follows does nothing.
  const settledRef = useRef(false);

  const closeMenu = useCallback((returnFocus: boolean) => {
    setMenuAt(null);
    if (returnFocus) buttonRef.current?.focus();
  }, []);

  const startEditing = () => {
    settledRef.current = false;
    setEditing(true);
  };

  const stopEditing = () => {
    settledRef.current = true;
    setEditing(false);
    setInvalid(false);
    requestAnimationFrame(() => linkRef.current?.focus());
  };

  const onTitleKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      if (actions.onRename(conversation, event.currentTarget.value)) stopEditing();
      else setInvalid(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // cancels the rename only, not the phone drawer
      stopEditing();
    }
  };

  const items: MenuItem[] = [
    { label: "Rename", onSelect: startEditing },
    ...(archivedView ? [] : [{ label: conversation.pinned ? "Unpin" : "Pin", onSelect: () => actions.onTogglePinned(conversation) }]),
    { label: archivedView ? "Unarchive" : "Archive", onSelect: () => actions.onArchive(conversation, !archivedView) },
    { label: "Delete", onSelect: () => actions.onDelete(conversation), danger: true },
  ];

  if (editing) {
    return (
      <div className="flex h-full items-center">
        <input
          aria-label={`Rename “${conversation.title}”`}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? `${conversation.id}-title-error` : undefined}
          defaultValue={conversation.title}
          maxLength={200}
          autoFocus
          onFocus={(event) => event.currentTarget.select()}
          onKeyDown={onTitleKeyDown}
          onChange={() => setInvalid(false)}
          onBlur={(event) => {
            if (settledRef.current) return;
            // Leaving the box keeps a valid new title, like pressing Enter; a blank one is dropped.
            actions.onRename(conversation, event.currentTarget.value);
            setEditing(false);
            setInvalid(false);
          }}
          className={`w-full rounded-lg border bg-white px-2.5 py-1.5 text-sm outline-none focus:ring-2 dark:bg-zinc-950 ${invalid ? "border-red-500 focus:ring-red-500/30" : "border-blue-500 focus:ring-blue-500/30"}`}
        />
        {invalid ? (
          <span id={`${conversation.id}-title-error`} className="sr-only">
            A title cannot be empty.
          </span>
        ) : null}
      </div>
    );
  }

  return (
    <div
      data-testid="conversation-row"
      className={`group relative flex h-full items-center rounded-lg text-sm ${active ? "bg-zinc-200/80 dark:bg-zinc-800" : "hover:bg-zinc-200/50 dark:hover:bg-zinc-800/60"}`}
    >
      <Link
        ref={linkRef}
        href={`/c/${conversation.id}`}
        aria-current={active ? "page" : undefined}
        onClick={actions.onNavigate}
        title={conversation.title}
        className={`flex h-full min-w-0 flex-1 items-center gap-1.5 rounded-lg py-1.5 pr-9 pl-2.5 outline-none focus-visible:ring-2 focus-visible:ring-blue-500 focus-visible:ring-inset ${active ? "font-medium text-zinc-900 dark:text-zinc-50" : "text-zinc-700 dark:text-zinc-300"}`}
      >
        <span className="truncate">{conversation.title}</span>
        {conversation.pinned && !archivedView ? <PinIcon /> : null}
      </Link>
      <button
        ref={buttonRef}
        type="button"
        aria-label={`More actions for ${conversation.title}`}
        aria-haspopup="menu"
        aria-expanded={menuAt !== null}
        onClick={(event) => setMenuAt(menuAt ? null : event.currentTarget.getBoundingClientRect())}
        className={`absolute right-1 grid size-7 place-items-center rounded-md text-zinc-500 outline-none hover:bg-zinc-300/60 hover:text-zinc-900 focus-visible:opacity-100 focus-visible:ring-2 focus-visible:ring-blue-500 max-md:opacity-100 dark:text-zinc-400 dark:hover:bg-zinc-700 dark:hover:text-zinc-100 ${menuAt || active ? "opacity-100" : "opacity-0 group-hover:opacity-100"}`}
      >
        <DotsIcon />
      </button>
      {menuAt ? <RowMenu anchor={menuAt} button={buttonRef} label={`Actions for ${conversation.title}`} items={items} onClose={closeMenu} /> : null}
    </div>
  );
}
