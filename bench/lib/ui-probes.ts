import type { CDPSession, Page } from "@playwright/test";
import { percentile } from "./metrics";

/**
 * What the UI benchmark measures inside the page, through the Performance API: paint timings,
 * long tasks (main-thread tasks over 50 ms), long animation frames (with the scripts behind them)
 * and frame intervals while a script scrolls. The functions below run in the browser: they are
 * serialized by Playwright, so they only use what they are given.
 */

type Entry = { start: number; duration: number };
type Frame = Entry & { blocking: number; scripts: Array<{ invoker: string; source: string; duration: number }> };
type Probe = { longTasks: Entry[]; frames: Frame[]; lcp: number };
type ProbedWindow = Window & { __bench: Probe };

/**
 * The init script (context.addInitScript): runs before any page script, so nothing is missed.
 * tsx (esbuild keepNames) wraps nested functions in `__name(…)`, which the page lacks: a stand-in
 * comes first, and stays for the functions page.evaluate runs later.
 */
export function probeScript(): string {
  return `globalThis.__name = globalThis.__name || ((fn) => fn);\n(${installProbes.toString()})();`;
}

function installProbes(): void {
  const probe: Probe = { longTasks: [], frames: [], lcp: 0 };
  (window as unknown as ProbedWindow).__bench = probe;
  const observe = (type: string, onEntry: (entry: PerformanceEntry) => void) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(onEntry)).observe({ type, buffered: true });
    } catch {
      // entry type not supported by this browser
    }
  };
  observe("longtask", (e) => probe.longTasks.push({ start: e.startTime, duration: e.duration }));
  observe("largest-contentful-paint", (e) => (probe.lcp = e.startTime));
  observe("long-animation-frame", (e) => {
    const frame = e as PerformanceEntry & { blockingDuration?: number; scripts?: Array<{ invoker?: string; sourceURL?: string; duration: number }> };
    probe.frames.push({
      start: e.startTime,
      duration: e.duration,
      blocking: frame.blockingDuration ?? 0,
      scripts: (frame.scripts ?? []).map((s) => ({ invoker: s.invoker ?? "", source: (s.sourceURL ?? "").replace(/^.*\/_next\//, "_next/"), duration: s.duration })),
    });
  });
}

export type PaintTimings = { ttfb: number; fp: number; fcp: number; lcp: number; domContentLoaded: number; load: number };

export function readPaintTimings(page: Page): Promise<PaintTimings> {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const paint = (name: string) => performance.getEntriesByType("paint").find((e) => e.name === name)?.startTime ?? NaN;
    return {
      ttfb: nav?.responseStart ?? NaN,
      fp: paint("first-paint"),
      fcp: paint("first-contentful-paint"),
      lcp: (window as unknown as ProbedWindow).__bench.lcp || NaN,
      domContentLoaded: nav?.domContentLoadedEventEnd ?? NaN,
      load: nav?.loadEventEnd ?? NaN,
    };
  });
}

export function readProbe(page: Page): Promise<Probe & { now: number; heapMb: number | null; domNodes: number }> {
  return page.evaluate(() => {
    const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return {
      ...(window as unknown as ProbedWindow).__bench,
      now: performance.now(),
      heapMb: memory ? Math.round((memory.usedJSHeapSize / 1048576) * 10) / 10 : null,
      domNodes: document.getElementsByTagName("*").length,
    };
  });
}

/** How a scripted scroll went: its window in page time, why it stopped, the frame intervals. */
export type ScrollRun = { start: number; end: number; reason: string; frameIntervals: number[]; seen: number; inDom: number; clicks: number };

/**
 * Scrolls the sidebar's list to its end, a screenful per frame, the way a reader flinging the
 * wheel would. Written for any list: it finds the scrolling element inside the navigation, counts
 * the distinct conversation links it has seen (a virtualized list shows only some at a time), and
 * clicks a "Load more" button when one is at the end.
 */
export function scrollSidebar(page: Page, options: { target: number; oldestTitle: string; limitMs: number }): Promise<ScrollRun> {
  return page.evaluate(async ({ target, oldestTitle, limitMs }) => {
    const nav = document.querySelector('nav[aria-label="Conversations"]');
    if (!nav) throw new Error("no Conversations navigation");
    const scrollable = (el: Element) => ["auto", "scroll"].includes(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight;
    const list = [nav, ...nav.querySelectorAll("*")].find(scrollable);
    if (!list) throw new Error("no scrolling element in the Conversations navigation");
    const seen = new Set<string>();
    let reachedOldest = false;
    // Every few frames, and looking only at links not seen before: the probe must not be the long task.
    let frame = 0;
    const collect = (force = false) => {
      if (!force && frame++ % 8 !== 0) return;
      for (const link of nav.querySelectorAll<HTMLAnchorElement>('a[href^="/c/"]')) {
        const href = link.getAttribute("href") ?? "";
        if (seen.has(href)) continue;
        seen.add(href);
        if (link.textContent?.includes(oldestTitle)) reachedOldest = true;
      }
    };
    const start = performance.now();
    const frameIntervals: number[] = [];
    let last = start;
    let clicks = 0;
    let lastHeight = list.scrollHeight;
    let stableSince = start;
    // One click per page: the next only once the list has grown (or 5 s passed), as a reader would.
    let clickedAt = { height: -1, time: 0 };
    const reason = await new Promise<string>((resolve) => {
      const step = (now: number) => {
        frameIntervals.push(now - last);
        last = now;
        collect();
        if (reachedOldest || seen.size >= target) return resolve("reached the oldest conversation");
        if (now - start > limitMs) return resolve("time limit");
        list.scrollBy(0, Math.max(200, list.clientHeight * 0.9));
        const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 2;
        if (list.scrollHeight !== lastHeight) {
          lastHeight = list.scrollHeight;
          stableSince = now;
        }
        const more = [...nav.querySelectorAll("button")].find((b) => /load more/i.test(b.textContent ?? "") && !b.disabled);
        if (atEnd && more && (list.scrollHeight !== clickedAt.height || now - clickedAt.time > 5_000)) {
          more.click();
          clicks++;
          clickedAt = { height: list.scrollHeight, time: now };
          stableSince = now;
        } else if (atEnd && !more && now - stableSince > 3_000) {
          return resolve("end of list (nothing more loaded for 3 s)");
        }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    const end = performance.now();
    collect(true);
    return { start, end, reason, frameIntervals, seen: seen.size, inDom: nav.querySelectorAll('a[href^="/c/"]').length, clicks };
  }, options);
}

/** Scrolls the thread up a screenful per frame until its first message is in the DOM. */
export function scrollThreadToTop(page: Page, options: { marker: string; limitMs: number }): Promise<ScrollRun> {
  return page.evaluate(async ({ marker, limitMs }) => {
    const scroller = document.querySelector<HTMLElement>('[data-testid="message-scroller"]');
    if (!scroller) throw new Error("no message scroller");
    const seen = new Set<string>();
    const found = () => {
      let hit = false;
      for (const el of scroller.querySelectorAll('[data-testid="message"]')) {
        const text = el.textContent ?? "";
        seen.add(text.slice(0, 80));
        if (text.includes(marker)) hit = true;
      }
      return hit;
    };
    const start = performance.now();
    const frameIntervals: number[] = [];
    let last = start;
    let clicks = 0;
    let atTopSince = 0;
    const reason = await new Promise<string>((resolve) => {
      const step = (now: number) => {
        frameIntervals.push(now - last);
        last = now;
        if (found()) return resolve("reached the first message");
        if (now - start > limitMs) return resolve("time limit");
        scroller.scrollBy(0, -Math.max(200, scroller.clientHeight * 0.9));
        if (scroller.scrollTop > 0) atTopSince = 0;
        else if (!atTopSince) atTopSince = now;
        // At the top with nothing loading for a while: use the button, as a reader would.
        const button = [...scroller.querySelectorAll("button")].find((b) => /earlier messages/i.test(b.textContent ?? ""));
        if (atTopSince && button && now - atTopSince > 500) {
          button.click();
          clicks++;
          atTopSince = now;
        }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    return { start, end: performance.now(), reason, frameIntervals, seen: seen.size, inDom: scroller.querySelectorAll('[data-testid="message"]').length, clicks };
  }, options);
}

/** Chromium's own counters (seconds of main-thread work), read before and after a phase. */
export async function cdpMetrics(session: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await session.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

export function cdpDelta(before: Record<string, number>, after: Record<string, number>) {
  // A navigation can move the page to a new renderer, whose counters start again from zero.
  const ms = (name: string) => {
    const [a, b] = [after[name] ?? 0, before[name] ?? 0];
    return Math.round((a >= b ? a - b : a) * 1000);
  };
  return { task_ms: ms("TaskDuration"), script_ms: ms("ScriptDuration"), layout_ms: ms("LayoutDuration"), style_ms: ms("RecalcStyleDuration") };
}

export type LongTaskSummary = { count: number; over_50ms: number; max_ms: number; total_ms: number; blocking_ms: number };

/** Long tasks that started in [from, to) of page time; blocking = the part of each beyond 50 ms. */
export function summarizeLongTasks(entries: Entry[], from: number, to: number): LongTaskSummary {
  const inside = entries.filter((e) => e.start >= from && e.start < to);
  const round = (v: number) => Math.round(v);
  return {
    count: inside.length,
    over_50ms: inside.filter((e) => e.duration > 50).length,
    max_ms: round(Math.max(0, ...inside.map((e) => e.duration))),
    total_ms: round(inside.reduce((sum, e) => sum + e.duration, 0)),
    blocking_ms: round(inside.reduce((sum, e) => sum + Math.max(0, e.duration - 50), 0)),
  };
}

/** The longest animation frames in a window, with the scripts that took the time (for diagnosis). */
export function worstFrames(frames: Frame[], from: number, to: number, n = 3) {
  return frames
    .filter((f) => f.start >= from && f.start < to)
    .sort((a, b) => b.duration - a.duration)
    .slice(0, n)
    .map((f) => ({
      duration_ms: Math.round(f.duration),
      blocking_ms: Math.round(f.blocking),
      scripts: f.scripts
        .sort((a, b) => b.duration - a.duration)
        .slice(0, 3)
        .map((s) => ({ invoker: s.invoker.slice(0, 80), source: s.source.slice(0, 80), duration_ms: Math.round(s.duration) })),
    }));
}

export function frameStats(intervals: number[]) {
  const sample = intervals.slice(1);
  return {
    frames: sample.length,
    p50_ms: Math.round(percentile(sample, 50)),
    p95_ms: Math.round(percentile(sample, 95)),
    max_ms: Math.round(Math.max(0, ...sample)),
    over_50ms: sample.filter((v) => v > 50).length,
  };
}

/** Median, p95 and max of a sample (NaN-free), rounded to the millisecond. */
export function spread(values: number[]) {
  const sample = values.filter((v) => Number.isFinite(v));
  return {
    n: sample.length,
    median: Math.round(percentile(sample, 50)),
    p95: Math.round(percentile(sample, 95)),
    max: Math.round(Math.max(...sample)),
  };
}
