import { getDb } from "@/lib/db/client";
import { markInterruptedMessages, stopRequestedAmong } from "@/lib/db/queries/messages";
import { env } from "@/lib/env";
import { getStreamLog, textOfEvents, type StreamEvent } from "./log";

/**
 * A reply being generated in this process, independent of any HTTP request: readers attach and
 * detach (a reload, a second tab, a resume from another instance through the log) while the
 * generation runs to its end. Every chunk gets the next event id, goes to the attached readers at
 * once and to the stream log in batches (every FLUSH_MS), in order. Only an explicit stop — from
 * this process or, via `messages.stop_requested_at`, from any other — aborts the generation.
 */

const FLUSH_MS = 50;
const STOP_POLL_MS = 250;
const APPEND_RETRY_MS = 200;

export type RunListener = { event: (event: StreamEvent) => void; end: () => void };

const holder = globalThis as typeof globalThis & { __botGptRuns?: Map<string, ReplyRun> };
const registry = (holder.__botGptRuns ??= new Map<string, ReplyRun>());

export class ReplyRun {
  messageId: string | null = null;
  readonly controller = new AbortController();
  readonly events: StreamEvent[] = [];
  ended = false;
  /** Resolves once the run has ended and its log is written. */
  readonly settled: Promise<void>;
  private settle!: () => void;
  private readonly listeners = new Set<RunListener>();
  private pending: StreamEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor() {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** The reply's row exists: from now on its chunks are logged and it can be found and stopped. */
  attach(messageId: string): void {
    this.messageId = messageId;
    registry.set(messageId, this);
    this.pending.push(...this.events);
    ensureStopPoller();
    ensureOrphanSweep();
  }

  publish(chunk: unknown): void {
    if (this.ended) return;
    const event: StreamEvent = { id: this.events.length + 1, chunk: JSON.stringify(chunk) };
    this.events.push(event);
    if (this.messageId) {
      this.pending.push(event);
      this.timer ??= setTimeout(() => void this.flush(false), FLUSH_MS);
    }
    for (const listener of this.listeners) listener.event(event);
  }

  /** Stops the generation (the model request is cancelled; the partial reply is saved as aborted). */
  stop(): void {
    this.controller.abort();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    for (const listener of this.listeners) listener.end();
    this.listeners.clear();
    const id = this.messageId;
    if (!id) {
      this.settle();
      return;
    }
    void this.flush(true).finally(() => {
      if (registry.get(id) === this) registry.delete(id);
      this.settle();
      maybePrune();
    });
  }

  /** Replays the events after `afterId`, then follows live ones; returns the detach function. */
  subscribe(afterId: number, listener: RunListener): () => void {
    for (const event of this.events) if (event.id > afterId) listener.event(event);
    if (this.ended) {
      listener.end();
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private flush(done: boolean): Promise<void> {
    this.timer = undefined;
    const id = this.messageId;
    const batch = this.pending;
    this.pending = [];
    const nextId = this.events.length + 1;
    if (!id || (batch.length === 0 && !done)) return this.writes;
    this.writes = this.writes.then(() => appendWithRetry(id, batch, { done, nextId }));
    return this.writes;
  }
}

async function appendWithRetry(messageId: string, events: StreamEvent[], options: { done: boolean; nextId: number }): Promise<void> {
  const log = await getStreamLog();
  try {
    await log.append(messageId, events, options);
  } catch {
    await new Promise((resolve) => setTimeout(resolve, APPEND_RETRY_MS));
    // Readers in this process still get every event; a reader elsewhere would miss this batch.
    await log.append(messageId, events, options).catch((error: unknown) => {
      console.error(`stream log append failed for reply ${messageId}`, error instanceof Error ? error.message : error);
    });
  }
}

/** The run generating this reply in this process, if any. */
export function localRun(messageId: string): ReplyRun | undefined {
  return registry.get(messageId);
}

/** Replies this process is generating right now. */
export function activeRunCount(): number {
  return [...registry.values()].filter((run) => !run.ended).length;
}

let poller: ReturnType<typeof setInterval> | undefined;
let polling = false;

/** While this process generates replies, it looks for stops asked for on other instances. */
function ensureStopPoller(): void {
  if (poller) return;
  poller = setInterval(() => {
    const ids = [...registry.entries()].filter(([, run]) => !run.ended).map(([id]) => id);
    if (ids.length === 0) {
      clearInterval(poller);
      poller = undefined;
      return;
    }
    if (polling) return;
    polling = true;
    stopRequestedAmong(ids)
      .then((stopped) => stopped.forEach((id) => registry.get(id)?.stop()))
      .catch(() => {})
      .finally(() => (polling = false));
  }, STOP_POLL_MS);
  poller.unref?.();
}

const PRUNE_EVERY_MS = 10 * 60 * 1000;
let lastPrune = 0;

/** Old logs are removed now and then by whichever process finishes a reply. */
function maybePrune(): void {
  if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = Date.now();
  void getStreamLog()
    .then((log) => log.prune())
    .catch((error: unknown) => console.warn("stream log prune failed", error instanceof Error ? error.message : error));
}

const ORPHAN_SWEEP_MS = 60_000;
let sweeper: ReturnType<typeof setInterval> | undefined;

/**
 * Once a minute while this process serves replies: a reply of ours left `streaming` with no run
 * behind it (its final write failed every retry) is marked interrupted with the text from its log,
 * as start-up recovery would — and so is anyone's that has been still far too long (an instance
 * that never came back).
 */
function ensureOrphanSweep(): void {
  if (sweeper) return;
  sweeper = setInterval(() => {
    void (async () => {
      const [db, log] = await Promise.all([getDb(), getStreamLog()]);
      const ids = [...registry.entries()].filter(([, run]) => !run.ended).map(([id]) => id);
      const recovered = await markInterruptedMessages(db, {
        workerId: env.instanceId,
        logText: async (id) => textOfEvents((await log.read(id, 0)).events),
        running: { ids, idleMs: ORPHAN_SWEEP_MS },
      });
      if (recovered > 0) console.warn(`marked ${recovered} orphaned reply(ies) interrupted`);
    })().catch((error: unknown) => console.warn("orphan sweep failed", error instanceof Error ? error.message : error));
  }, ORPHAN_SWEEP_MS);
  sweeper.unref?.();
}
