"use client";

import { useEffect, useRef } from "react";
import { Button } from "@/components/ui/button";
import type { ConversationSummary } from "./groups";

/** A modal alert dialog (native <dialog>: focus stays inside, Escape cancels, focus returns after). */
export function ConfirmDeleteDialog({
  conversation,
  onConfirm,
  onCancel,
}: {
  conversation: ConversationSummary | null;
  onConfirm: (conversation: ConversationSummary) => void;
  onCancel: () => void;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (conversation && !dialog.open) dialog.showModal();
    if (!conversation && dialog.open) dialog.close();
  }, [conversation]);

  return (
    <dialog
      ref={dialogRef}
      role="alertdialog"
      aria-labelledby="delete-conversation-title"
      aria-describedby="delete-conversation-description"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
      onClick={(event) => {
        // A click on the backdrop lands on the dialog element itself.
        if (event.target === event.currentTarget) onCancel();
      }}
      className="m-auto w-[min(24rem,calc(100vw-2rem))] rounded-2xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      {conversation ? (
        <div className="space-y-4 p-5">
          <h2 id="delete-conversation-title" className="text-base font-semibold">
            Delete conversation?
          </h2>
          <p id="delete-conversation-description" className="text-sm text-zinc-600 dark:text-zinc-400">
            This will delete <strong className="font-medium break-words text-zinc-900 dark:text-zinc-100">{conversation.title}</strong> and its messages.
            You can undo for a few seconds.
          </p>
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={onCancel} autoFocus>
              Cancel
            </Button>
            <Button variant="danger" onClick={() => onConfirm(conversation)}>
              Delete
            </Button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}
