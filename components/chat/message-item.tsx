import { memo } from "react";
import { SourcesList } from "./citations";
import { Markdown } from "./markdown";
import { MessageActions } from "./message-actions";
import { CachedBadge, FallbackBadge, UsageDetails } from "./message-usage";
import { citationsOf, textOf, type ChatMessage } from "./types";

const statusNotes: Record<string, string> = {
  aborted: "Stopped before the reply finished.",
  error: "The reply failed.",
  interrupted: "The server restarted while this reply was being written.",
};

export function isOfflineModel(model: string | null | undefined): boolean {
  return Boolean(model?.startsWith("offline:"));
}

/**
 * `onRetry`: offered on a reply that did not finish (the newest one, when nothing is running).
 * Memoized: while a reply streams only that message changes, so the rest of the thread is not
 * re-rendered (nor its citations re-parsed) on every token.
 */
export const MessageItem = memo(function MessageItem({ message, onRetry }: { message: ChatMessage; onRetry?: () => void }) {
  const text = textOf(message);
  const isUser = message.role === "user";
  const meta = message.metadata;
  const citations = isUser ? [] : citationsOf(message);
  const note = meta?.status ? statusNotes[meta.status] : undefined;
  return (
    <div className={`group/message flex flex-col ${isUser ? "items-end" : "items-start"}`} data-role={message.role} data-testid="message">
      <article
        aria-label={isUser ? "You said" : "Assistant replied"}
        className={`min-w-0 text-sm leading-relaxed ${isUser ? "max-w-[85%] rounded-2xl bg-zinc-900 px-4 py-3 text-white dark:bg-zinc-100 dark:text-zinc-900" : "w-full px-1 py-1"}`}
      >
        {!isUser && isOfflineModel(meta?.model) ? (
          <p className="mb-2 inline-block rounded bg-amber-200 px-2 py-0.5 text-xs font-semibold text-amber-900">
            Offline model — not an AI
          </p>
        ) : null}
        {/* People type plain text, shown as typed; replies are Markdown, rendered without raw HTML. */}
        {isUser ? <div className="break-words whitespace-pre-wrap">{text}</div> : <Markdown text={text} citations={citations} />}
        <SourcesList citations={citations} />
        {note ? (
          <p className="mt-2 text-xs text-red-700 dark:text-red-400" role="note">
            {note} {meta?.error_detail ?? ""}
          </p>
        ) : null}
        {note && onRetry ? (
          <button
            type="button"
            onClick={onRetry}
            className="mt-2 rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium text-zinc-700 hover:bg-zinc-200 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 dark:border-zinc-600 dark:text-zinc-200 dark:hover:bg-zinc-700"
          >
            Retry
          </button>
        ) : null}
        {!isUser && meta?.model && meta.status !== "streaming" ? (
          <div className="mt-2 flex flex-wrap items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
            <span className="break-all">{meta.model}</span>
            {meta.fallback_used ? <FallbackBadge /> : null}
            {meta.cached ? <CachedBadge /> : null}
            <UsageDetails meta={meta} />
          </div>
        ) : null}
      </article>
      <MessageActions message={message} />
    </div>
  );
});
