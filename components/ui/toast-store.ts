/** A tiny toast queue: a module-level store read through useSyncExternalStore, with pausable timers. */

type ToastTone = "info" | "error";
type ToastAction = { label: string; onClick: () => void };
export type ToastOptions = { message: string; action?: ToastAction; tone?: ToastTone; durationMs?: number };
export type Toast = { id: number; message: string; action?: ToastAction; tone: ToastTone };

const DEFAULT_DURATION_MS = { info: 5_000, error: 8_000 } as const;
const MAX_TOASTS = 4;

type Timer = { handle: ReturnType<typeof setTimeout> | null; remainingMs: number; startedAt: number };

export function createToastStore() {
  let toasts: Toast[] = [];
  let nextId = 1;
  const timers = new Map<number, Timer>();
  const listeners = new Set<() => void>();

  const emit = () => listeners.forEach((listener) => listener());

  function startTimer(id: number, ms: number) {
    timers.set(id, { handle: setTimeout(() => dismiss(id), ms), remainingMs: ms, startedAt: Date.now() });
  }

  function dismiss(id: number) {
    const timer = timers.get(id);
    if (timer?.handle) clearTimeout(timer.handle);
    timers.delete(id);
    const next = toasts.filter((t) => t.id !== id);
    if (next.length === toasts.length) return;
    toasts = next;
    emit();
  }

  return {
    show({ message, action, tone = "info", durationMs }: ToastOptions): number {
      const id = nextId++;
      toasts = [...toasts, { id, message, action, tone }];
      // The oldest make way; a long list of toasts helps no one.
      for (const old of toasts.slice(0, Math.max(0, toasts.length - MAX_TOASTS))) dismiss(old.id);
      startTimer(id, durationMs ?? DEFAULT_DURATION_MS[tone]);
      emit();
      return id;
    },
    dismiss,
    /** While the pointer or focus is on a toast it stays; resume restarts the time that was left. */
    pause(id: number) {
      const timer = timers.get(id);
      if (!timer?.handle) return;
      clearTimeout(timer.handle);
      timers.set(id, { handle: null, remainingMs: Math.max(0, timer.remainingMs - (Date.now() - timer.startedAt)), startedAt: 0 });
    },
    resume(id: number) {
      const timer = timers.get(id);
      if (!timer || timer.handle) return;
      startTimer(id, timer.remainingMs);
    },
    getSnapshot: () => toasts,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

export const toastStore = createToastStore();
