"use client";

import { useId, type FormEvent, type KeyboardEvent } from "react";
import { Button } from "@/components/ui/button";
import { ACCEPTED_FILE_TYPES } from "@/components/documents/types";
import { formatCount } from "./format";

type Props = {
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  onStop: () => void;
  onFiles: (files: File[]) => void;
  busy: boolean;
  placeholder: string;
  note?: string;
  /** The server's limit on a message (MAX_MESSAGE_CHARS). */
  maxChars: number;
};

/** The count appears once a draft passes this share of the limit. */
const SHOW_COUNT_AT = 0.8;

function PaperclipIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" className="size-5">
      <path
        d="M14.5 9.5l-5.3 5.3a3.2 3.2 0 01-4.5-4.5l6-6a2.1 2.1 0 013 3l-6 6a1 1 0 01-1.5-1.5l5.3-5.3"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export function Composer({ value, onChange, onSubmit, onStop, onFiles, busy, placeholder, note, maxChars }: Props) {
  const fileInputId = useId();
  const noteId = useId();
  const countId = useId();
  // A long paste is kept whole (no maxLength cutting it silently); sending waits until it fits.
  const over = value.length - maxChars;
  const showCount = value.length >= maxChars * SHOW_COUNT_AT;
  const canSend = value.trim().length > 0 && over <= 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (canSend && !busy) onSubmit();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (canSend && !busy) onSubmit();
    }
  }

  return (
    <form onSubmit={submit} className="border-t border-zinc-200 p-3 dark:border-zinc-800">
      {note ? (
        <p id={noteId} className="mx-auto mb-2 max-w-3xl text-xs text-zinc-600 dark:text-zinc-400">
          {note}
        </p>
      ) : null}
      <div className="mx-auto flex max-w-3xl items-end gap-2">
        {/* A real file input behind a label: keyboard, screen readers and tests reach it by its name. */}
        <input
          id={fileInputId}
          type="file"
          multiple
          accept={ACCEPTED_FILE_TYPES}
          className="peer sr-only"
          onChange={(event) => {
            onFiles(Array.from(event.target.files ?? []));
            // Choosing the same file again must fire change again.
            event.target.value = "";
          }}
        />
        <label
          htmlFor={fileInputId}
          title="Attach PDF, TXT or Markdown files"
          className="inline-flex h-10 shrink-0 cursor-pointer items-center gap-1 rounded-lg border border-zinc-300 bg-white px-2.5 text-sm font-medium text-zinc-700 hover:bg-zinc-100 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-blue-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
        >
          <PaperclipIcon />
          <span className="sr-only sm:not-sr-only">Attach</span>
          <span className="sr-only"> files</span>
        </label>
        <label htmlFor="chat-input" className="sr-only">
          Message
        </label>
        <textarea
          id="chat-input"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          rows={1}
          placeholder={placeholder}
          aria-describedby={[note ? noteId : "", showCount ? countId : ""].filter(Boolean).join(" ") || undefined}
          aria-invalid={over > 0 || undefined}
          className={`field-sizing-content max-h-48 min-h-10 flex-1 resize-none rounded-xl border bg-white px-3 py-2 text-sm outline-none focus:ring-2 dark:bg-zinc-900 ${over > 0 ? "border-red-500 focus:ring-red-500/30" : "border-zinc-300 focus:border-blue-500 focus:ring-blue-500/30 dark:border-zinc-700"}`}
        />
        {busy ? (
          <Button type="button" variant="secondary" onClick={onStop} data-action="stop">
            Stop
          </Button>
        ) : (
          <Button type="submit" disabled={!canSend}>
            Send
          </Button>
        )}
      </div>
      {showCount ? (
        <p id={countId} aria-live="polite" className={`mx-auto mt-1 max-w-3xl text-right text-xs tabular-nums ${over > 0 ? "text-red-700 dark:text-red-400" : "text-zinc-500 dark:text-zinc-400"}`}>
          {formatCount(value.length)} / {formatCount(maxChars)} characters
          {over > 0 ? ` — ${formatCount(over)} over the limit; shorten it or attach it as a file.` : ""}
        </p>
      ) : null}
    </form>
  );
}
