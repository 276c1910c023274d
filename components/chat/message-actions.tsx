"use client";

import { createContext, useContext, useId, useState, type KeyboardEvent, type ReactNode } from "react";
import { apiCall } from "@/components/api-client";
import { Button } from "@/components/ui/button";
import { copyText } from "@/components/ui/clipboard";
import { textOf, type ChatMessage, type Rating } from "./types";

/**
 * The row of small actions under a message — copy, rate, regenerate, edit — and the inline editor.
 * What the chat knows about the thread reaches it through context, so MessageItem stays memoized:
 * a streamed token re-renders neither the other messages nor their action rows.
 */

export type MessageActionsValue = {
  /** The conversation the messages belong to (null before the first send). */
  getConversationId: () => string | null;
  /** Message ids in thread order. */
  ids: string[];
  /** A reply is being sent or streamed: nothing that starts another may run. */
  busy: boolean;
  regenerate: (messageId: string) => void;
  edit: (messageId: string, text: string) => void;
};

const MessageActionsContext = createContext<MessageActionsValue | null>(null);

export function MessageActionsProvider({ value, children }: { value: MessageActionsValue; children: ReactNode }) {
  return <MessageActionsContext value={value}>{children}</MessageActionsContext>;
}

const iconButton =
  "inline-flex size-7 items-center justify-center rounded-md text-zinc-500 hover:bg-zinc-200 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-500 disabled:cursor-not-allowed disabled:opacity-40 aria-pressed:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-700 dark:hover:text-zinc-100 dark:aria-pressed:text-zinc-100";

function Icon({ path, filled = false }: { path: string; filled?: boolean }) {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" className="size-4" fill={filled ? "currentColor" : "none"} stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round">
      <path d={path} />
    </svg>
  );
}

const icons = {
  copy: "M9 9h10v12H9zM5 15H4V3h12v1",
  check: "M5 12l5 5 9-10",
  up: "M7 10v11H3V10zM7 10l4-8a3 3 0 013 3v4h6a2 2 0 012 2.3l-1.4 8A2 2 0 0118.6 21H7",
  down: "M17 14V3h4v11zM17 14l-4 8a3 3 0 01-3-3v-4H4a2 2 0 01-2-2.3l1.4-8A2 2 0 015.4 3H17",
  regenerate: "M20 11a8 8 0 10-2.3 5.7M20 4v7h-7",
  edit: "M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4",
};

async function sendRating(conversationId: string, messageId: string, rating: Rating | null): Promise<void> {
  const path = `/conversations/${conversationId}/messages/${messageId}/feedback`;
  await apiCall(path, rating === null ? { method: "DELETE", fallback: "Could not clear the rating." } : { method: "POST", body: { rating }, fallback: "Could not save the rating." });
}

export function MessageActions({ message }: { message: ChatMessage }) {
  const context = useContext(MessageActionsContext);
  const [copied, setCopied] = useState(false);
  // The rating as the user last set it here; undefined: as stored.
  const [rated, setRated] = useState<Rating | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const status = message.metadata?.status;
  if (!context || status === "streaming") return null;

  const isUser = message.role === "user";
  const index = context.ids.indexOf(message.id);
  const later = index === -1 ? 0 : context.ids.length - index - 1;
  const isLast = index !== -1 && later === 0;
  // The reply being written gets its actions when it is done.
  if (context.busy && isLast && !isUser) return null;
  const rating = rated === undefined ? (message.metadata?.feedback?.rating ?? null) : rated;
  // A message gets its stored id (and seq) once the turn is saved; only then can it be edited.
  const stored = message.metadata?.seq !== undefined;

  async function copy() {
    try {
      await copyText(textOf(message));
      setCopied(true);
      setTimeout(() => setCopied(false), 2_000);
    } catch {
      setProblem("Could not copy to the clipboard.");
    }
  }

  async function rate(next: Rating) {
    const conversationId = context?.getConversationId();
    if (!conversationId) return;
    const previous = rating;
    // Pressing the active rating again clears it.
    const value = previous === next ? null : next;
    setRated(value);
    setProblem(null);
    try {
      await sendRating(conversationId, message.id, value);
    } catch {
      setRated(previous);
      setProblem("Your rating could not be saved. Try again.");
    }
  }

  if (editing !== null) {
    return (
      <MessageEditor
        initial={editing}
        laterMessages={later}
        busy={context.busy}
        onCancel={() => setEditing(null)}
        onSave={(text) => {
          setEditing(null);
          context.edit(message.id, text);
        }}
      />
    );
  }

  return (
    <div
      data-testid="message-actions"
      data-message-id={message.id}
      className={`mt-1 flex items-center gap-0.5 transition-opacity [@media(hover:none)]:opacity-100 ${isLast ? "opacity-100" : "opacity-0 group-hover/message:opacity-100 focus-within:opacity-100"}`}
    >
      <button type="button" className={iconButton} onClick={() => void copy()} aria-label={copied ? "Copied" : "Copy"} title={copied ? "Copied" : "Copy"}>
        <Icon path={copied ? icons.check : icons.copy} />
      </button>
      {isUser ? (
        <button
          type="button"
          className={iconButton}
          onClick={() => setEditing(textOf(message))}
          disabled={context.busy || !stored}
          aria-label="Edit"
          title="Edit"
        >
          <Icon path={icons.edit} />
        </button>
      ) : (
        <>
          <button type="button" className={iconButton} onClick={() => void rate("up")} disabled={!stored} aria-pressed={rating === "up"} aria-label="Good response" title="Good response">
            <Icon path={icons.up} filled={rating === "up"} />
          </button>
          <button type="button" className={iconButton} onClick={() => void rate("down")} disabled={!stored} aria-pressed={rating === "down"} aria-label="Bad response" title="Bad response">
            <Icon path={icons.down} filled={rating === "down"} />
          </button>
          {isLast && !context.busy ? (
            <button type="button" className={iconButton} onClick={() => context.regenerate(message.id)} aria-label="Regenerate" title="Regenerate">
              <Icon path={icons.regenerate} />
            </button>
          ) : null}
        </>
      )}
      <span aria-live="polite" className="sr-only">
        {copied ? "Copied to the clipboard" : ""}
      </span>
      {problem ? (
        <span role="alert" className="ml-1 text-xs text-red-700 dark:text-red-400">
          {problem}
        </span>
      ) : null}
    </div>
  );
}

function MessageEditor({
  initial,
  laterMessages,
  busy,
  onSave,
  onCancel,
}: {
  initial: string;
  laterMessages: number;
  busy: boolean;
  onSave: (text: string) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const warningId = useId();
  const canSave = text.trim().length > 0 && !busy;

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && canSave) {
      event.preventDefault();
      onSave(text.trim());
    }
  }

  return (
    <form
      className="mt-2 flex w-full max-w-[85%] flex-col gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        if (canSave) onSave(text.trim());
      }}
    >
      <textarea
        aria-label="Edit message"
        aria-describedby={laterMessages > 0 ? warningId : undefined}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        autoFocus
        rows={Math.min(10, Math.max(2, text.split("\n").length))}
        className="w-full resize-y rounded-xl border border-zinc-300 bg-white px-3 py-2 text-sm focus-visible:outline-2 focus-visible:outline-blue-500 dark:border-zinc-700 dark:bg-zinc-900"
      />
      {laterMessages > 0 ? (
        <p id={warningId} className="text-xs text-amber-800 dark:text-amber-300">
          Saving replaces the {laterMessages} later message{laterMessages === 1 ? "" : "s"} in this conversation.
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button type="button" variant="secondary" onClick={onCancel} className="px-2.5 py-1 text-xs">
          Cancel
        </Button>
        <Button type="submit" disabled={!canSave} className="px-2.5 py-1 text-xs">
          Save &amp; regenerate
        </Button>
      </div>
    </form>
  );
}
