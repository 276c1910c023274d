"use client";

import { useId } from "react";
import type { ConversationMode } from "./types";

const options: Array<{ value: ConversationMode; label: string; hint: string }> = [
  { value: "open", label: "Open", hint: "The model answers from what it knows." },
  { value: "grounded", label: "Documents only", hint: "Answers come only from the attached documents, with sources." },
];

/** Open vs grounded, as native radios: arrow keys and screen readers work without extra code. */
export function ModeSwitch({ mode, onChange }: { mode: ConversationMode; onChange: (mode: ConversationMode) => void }) {
  const name = useId();
  const hintId = useId();
  return (
    <fieldset className="min-w-0" aria-describedby={hintId}>
      <legend className="sr-only">Answer mode</legend>
      <div className="inline-flex rounded-lg border border-zinc-300 p-0.5 dark:border-zinc-700">
        {options.map((option) => (
          <label key={option.value} className="relative">
            <input
              type="radio"
              name={name}
              value={option.value}
              checked={mode === option.value}
              onChange={() => onChange(option.value)}
              className="peer sr-only"
            />
            <span className="block cursor-pointer rounded-md px-2.5 py-1 text-xs font-medium text-zinc-600 peer-checked:bg-zinc-900 peer-checked:text-white peer-focus-visible:outline-2 peer-focus-visible:outline-offset-1 peer-focus-visible:outline-blue-500 dark:text-zinc-300 dark:peer-checked:bg-zinc-100 dark:peer-checked:text-zinc-900">
              {option.label}
            </span>
          </label>
        ))}
      </div>
      <p id={hintId} className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
        {options.find((o) => o.value === mode)?.hint}
      </p>
    </fieldset>
  );
}
