import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createToastStore } from "@/components/ui/toast-store";

describe("toast store", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("adds toasts, notifies subscribers and keeps a stable snapshot between changes", () => {
    const store = createToastStore();
    const listener = vi.fn();
    store.subscribe(listener);
    const id = store.show({ message: "Saved" });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.getSnapshot()).toEqual([{ id, message: "Saved", action: undefined, tone: "info" }]);
    expect(store.getSnapshot()).toBe(store.getSnapshot());
  });

  it("dismisses on request and after its duration", () => {
    const store = createToastStore();
    const a = store.show({ message: "a", durationMs: 1_000 });
    store.show({ message: "b", durationMs: 5_000 });
    store.dismiss(a);
    expect(store.getSnapshot().map((t) => t.message)).toEqual(["b"]);
    vi.advanceTimersByTime(4_999);
    expect(store.getSnapshot()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(store.getSnapshot()).toHaveLength(0);
  });

  it("errors stay longer than info by default", () => {
    const store = createToastStore();
    store.show({ message: "info" });
    store.show({ message: "error", tone: "error" });
    vi.advanceTimersByTime(5_000);
    expect(store.getSnapshot().map((t) => t.message)).toEqual(["error"]);
    vi.advanceTimersByTime(3_000);
    expect(store.getSnapshot()).toHaveLength(0);
  });

  it("pausing holds a toast; resuming runs only the time that was left", () => {
    const store = createToastStore();
    const id = store.show({ message: "hover me", durationMs: 1_000 });
    vi.advanceTimersByTime(600);
    store.pause(id);
    vi.advanceTimersByTime(10_000);
    expect(store.getSnapshot()).toHaveLength(1);
    store.resume(id);
    vi.advanceTimersByTime(399);
    expect(store.getSnapshot()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(store.getSnapshot()).toHaveLength(0);
  });

  it("keeps the action and drops the oldest beyond four", () => {
    const store = createToastStore();
    const onClick = vi.fn();
    for (const n of [1, 2, 3, 4]) store.show({ message: String(n) });
    store.show({ message: "5", tone: "error", action: { label: "Retry", onClick } });
    const messages = store.getSnapshot();
    expect(messages.map((t) => t.message)).toEqual(["2", "3", "4", "5"]);
    messages.at(-1)?.action?.onClick();
    expect(onClick).toHaveBeenCalledOnce();
  });

  it("unsubscribed listeners hear nothing more", () => {
    const store = createToastStore();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    unsubscribe();
    store.show({ message: "x" });
    expect(listener).not.toHaveBeenCalled();
  });
});
