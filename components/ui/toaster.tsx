"use client";

import { useSyncExternalStore } from "react";
import { toastStore, type Toast, type ToastOptions } from "./toast-store";

/** Shows a toast from any client component; returns its id (for `toastStore.dismiss`). */
export function toast(options: ToastOptions): number {
  return toastStore.show(options);
}

const EMPTY: Toast[] = [];

function ToastItem({ toast: item }: { toast: Toast }) {
  const { id, message, action, tone } = item;
  const pause = () => toastStore.pause(id);
  const resume = () => toastStore.resume(id);
  return (
    <div
      onMouseEnter={pause}
      onMouseLeave={resume}
      onFocus={pause}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget)) resume();
      }}
      className={`pointer-events-auto flex items-start gap-3 rounded-xl border px-4 py-3 text-sm shadow-lg ${
        tone === "error"
          ? "border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100"
          : "border-zinc-200 bg-white text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
      }`}
    >
      <p className="flex-1 py-1">{message}</p>
      {action ? (
        <button
          type="button"
          onClick={() => {
            toastStore.dismiss(id);
            action.onClick();
          }}
          className="shrink-0 rounded-md px-2 py-1 font-medium underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          {action.label}
        </button>
      ) : null}
      <button
        type="button"
        aria-label="Dismiss"
        onClick={() => toastStore.dismiss(id)}
        className="shrink-0 rounded-md px-2 py-1 opacity-70 hover:opacity-100 focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}

/** The toasts, bottom right; errors in an alert region, the rest in a polite status region. */
export function Toaster() {
  const toasts = useSyncExternalStore(toastStore.subscribe, toastStore.getSnapshot, () => EMPTY);
  const errors = toasts.filter((t) => t.tone === "error");
  const infos = toasts.filter((t) => t.tone !== "error");
  return (
    <section aria-label="Notifications" className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-[min(24rem,calc(100vw-2rem))] flex-col gap-2">
      <div role="alert" className="flex flex-col gap-2">
        {errors.map((t) => (
          <ToastItem key={t.id} toast={t} />
        ))}
      </div>
      <div role="status" className="flex flex-col gap-2">
        {infos.map((t) => (
          <ToastItem key={t.id} toast={t} />
        ))}
      </div>
    </section>
  );
}
