"use client";

import type { Element } from "hast";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { hastText } from "@/lib/markdown/plugins";
import { copyText } from "@/components/ui/clipboard";

const COPIED_MS = 2_000;

/** A fenced code block: a header bar with its language and a copy button above the highlighted code. */
export function CodeBlock({ node, children }: { node?: Element; children?: ReactNode }) {
  const code = node?.children.find((child): child is Element => child.type === "element" && child.tagName === "code");
  const language = code ? languageOf(code) : undefined;
  return (
    <div className="my-3 overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-700" data-testid="code-block">
      <div className="flex items-center justify-between gap-2 bg-zinc-800 px-3 py-1 text-xs text-zinc-300 dark:bg-zinc-800/80">
        <span className="font-mono lowercase">{language ?? "text"}</span>
        <CopyButton text={code ? hastText(code) : ""} />
      </div>
      <pre className="md-code overflow-x-auto bg-zinc-50 p-3 font-mono text-[0.8125rem] leading-relaxed dark:bg-zinc-950">{children}</pre>
    </div>
  );
}

function languageOf(code: Element): string | undefined {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return undefined;
  for (const name of classes) {
    if (typeof name === "string" && name.startsWith("language-")) return name.slice("language-".length);
  }
  return undefined;
}

function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const copy = async () => {
    clearTimeout(timer.current);
    try {
      await copyText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    timer.current = setTimeout(() => setState("idle"), COPIED_MS);
  };

  return (
    <button
      type="button"
      aria-label="Copy code"
      onClick={() => void copy()}
      className="inline-flex items-center gap-1 rounded px-1.5 py-0.5 text-zinc-300 hover:bg-zinc-700 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-400"
    >
      <svg aria-hidden="true" viewBox="0 0 16 16" className="size-3.5" fill="none" stroke="currentColor" strokeWidth="1.5">
        {state === "copied" ? <path d="M3 8.5l3 3 7-7" /> : <path d="M5.5 5.5V3.5a1 1 0 011-1h6a1 1 0 011 1v6a1 1 0 01-1 1h-2M3.5 5.5h6a1 1 0 011 1v6a1 1 0 01-1 1h-6a1 1 0 01-1-1v-6a1 1 0 011-1z" />}
      </svg>
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : "Copy code"}</span>
    </button>
  );
}
