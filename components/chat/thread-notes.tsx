"use client";

import type { Refusal } from "./api";
import { formatWhen } from "./format";

/** What the thread says when it has no messages yet, or when the server refused a send. */

const STARTERS = [
  "Explain this error message and how to fix it",
  "Draft a polite follow-up email",
  "Summarize the key points of a long text",
  "Write a SQL query that finds duplicate rows",
];

/** A new conversation: what to do here, and a few starting points that fill the composer. */
export function EmptyThread({ grounded, onPick }: { grounded: boolean; onPick: (text: string) => void }) {
  return (
    <div className="mx-auto mt-[12vh] max-w-xl text-center">
      <h2 className="text-2xl font-semibold tracking-tight">{grounded ? "Ask your documents" : "How can I help?"}</h2>
      <p className="mt-2 text-sm text-zinc-500 dark:text-zinc-400">
        {grounded
          ? "Answers come only from the attached documents, with numbered sources that open the page they came from."
          : "Ask anything, or attach PDF, TXT or Markdown files to chat with them."}
      </p>
      {grounded ? null : (
        <ul className="mt-6 grid gap-2 sm:grid-cols-2" aria-label="Suggestions">
          {STARTERS.map((text) => (
            <li key={text}>
              <button
                type="button"
                onClick={() => {
                  onPick(text);
                  document.getElementById("chat-input")?.focus();
                }}
                className="h-full w-full rounded-xl border border-zinc-200 px-3 py-2 text-left text-sm text-zinc-700 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 dark:border-zinc-800 dark:text-zinc-300 dark:hover:bg-zinc-900"
              >
                {text}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A send the server refused (budget, rate limit…): what happened, when it clears, and where the draft is. */
export function RefusalText({ problem }: { problem: Refusal }) {
  const resetsAt = problem.resets_at ? new Date(problem.resets_at) : null;
  return (
    <>
      {problem.title ? <strong className="font-semibold">{problem.title}. </strong> : null}
      {problem.detail ?? "The message was not accepted."}
      {resetsAt && !Number.isNaN(resetsAt.getTime()) ? ` (That is ${formatWhen(resetsAt)} your time.)` : ""} Your message was not sent; it is
      back in the message box.
    </>
  );
}
