import { getDb } from "@/lib/db/client";
import { markInterruptedMessages, stopRequestedAmong, touchReplies } from "@/lib/db/queries/messages";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics";
import { withBackoff } from "@/lib/retry";
import { getStreamLog, textOfEvents, type StreamEvent } from "./log";
import { log as logger } from "@/lib/log";

/**
 * A reply being generated in this process, independent of any HTTP request: readers attach and
 * detach (a reload, a second tab, a resume from another instance through the log) while the
 * generation runs to its end. Every chunk gets the next event id, goes to the attached readers at
 * once and to the stream log in batches (every FLUSH_MS), in order. Only an explicit stop — from
 * this process or, via `messages.stop_requested_at`, from any other — aborts the generation.
 */

const FLUSH_MS = 50;
const STOP_POLL_MS = 250;
/** Live replies' rows are touched this often, so any instance can tell a dead writer from a slow one. */
const TOUCH_EVERY_MS = 5_000;
const APPEND_RETRY_MS = [200, 1_000, 3_000];

export type RunListener = { event: (event: StreamEvent) => void; end: () => void };

const holder = globalThis as typeof globalThis & { __botGptRuns?: Map<string, ReplyRun>; __botGptLive?: Map<string, () => void> };
const registry = (holder.__botGptRuns ??= new Map<string, ReplyRun>());
/** Every reply this process is writing (runs, and OpenAI-compatible calls), with how to stop it. */
const live = (holder.__botGptLive ??= new Map<string, () => void>());

/**
 * Registers a reply being written outside a run (the OpenAI-compatible endpoint): it is kept alive,
 * stoppable from any instance, and never swept as orphaned. Returns the unregister function.
 */
export function trackReply(messageId: string, stop: () => void): () => void {
  live.set(messageId, stop);
  metrics.activeReplies.set(live.size);
  ensurePollers();
  return () => {
    if (live.get(messageId) === stop) live.delete(messageId);
    metrics.activeReplies.set(live.size);
  };
}

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
  private untrack: () => void = () => {};

  constructor() {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** The reply's row exists: from now on its chunks are logged and it can be found and stopped. */
  attach(messageId: string): void {
    this.messageId = messageId;
    registry.set(messageId, this);
    this.untrack = trackReply(messageId, () => this.stop());
    this.pending.push(...this.events);
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
    this.untrack();
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

  /** Writes the events not yet in the log (a shutdown hands the reply off mid-way). */
  flushLog(): Promise<void> {
    return this.flush(false);
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

/**
 * Appends a batch, retrying with backoff (appends are idempotent). If the log stays unreachable the
 * batch is given up and logged: readers in this process still get every event, a reader on
 * another instance would see a gap, and the reply's row still gets its full text.
 */
async function appendWithRetry(messageId: string, events: StreamEvent[], options: { done: boolean; nextId: number }): Promise<void> {
  await withBackoff(async () => (await getStreamLog()).append(messageId, events, options), APPEND_RETRY_MS).catch((error: unknown) => {
    logger.error({ message_id: messageId, err: error }, "stream log append failed");
    metrics.streamLogAppendFailures.inc();
  });
}

/** The run generating this reply in this process, if any. */
export function localRun(messageId: string): ReplyRun | undefined {
  return registry.get(messageId);
}

/** How many replies this process is writing now. */
export function activeReplyCount(): number {
  return live.size;
}

/**
 * Shutdown at the grace deadline: every reply still being written has its events flushed to the
 * log and its row marked `interrupted` (as start-up recovery would), so a reader resuming on
 * another instance ends the stream from the row and the client can retry. Returns how many.
 */
export async function handOffReplies(): Promise<number> {
  clearInterval(poller);
  clearInterval(sweeper);
  await Promise.allSettled([...registry.values()].map((run) => run.flushLog()));
  const [db, log] = await Promise.all([getDb(), getStreamLog()]);
  const interrupted = await markInterruptedMessages(db, {
    workerId: env.instanceId,
    logText: async (id) => textOfEvents((await log.read(id, 0)).events),
  });
  if (interrupted > 0) metrics.interruptedReplies.inc(interrupted);
  return interrupted;
}

let poller: ReturnType<typeof setInterval> | undefined;
let polling = false;
let lastTouch = 0;

/**
 * While this process writes replies: every 250 ms it looks for stops asked for on other instances,
 * every 5 s it touches its replies' rows (a heartbeat other instances read), and once a minute it
 * sweeps orphaned replies.
 */
function ensurePollers(): void {
  ensureOrphanSweep();
  if (poller) return;
  poller = setInterval(() => {
    const ids = [...live.keys()];
    if (ids.length === 0) {
      clearInterval(poller);
      poller = undefined;
      return;
    }
    if (polling) return;
    polling = true;
    const touch = Date.now() - lastTouch >= TOUCH_EVERY_MS;
    if (touch) lastTouch = Date.now();
    Promise.all([
      stopRequestedAmong(ids).then((stopped) => stopped.forEach((id) => live.get(id)?.())),
      touch ? touchReplies(ids) : undefined,
    ])
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
    .catch((error: unknown) => logger.warn({ err: error }, "stream log prune failed"));
}

const ORPHAN_SWEEP_MS = 60_000;
let sweeper: ReturnType<typeof setInterval> | undefined;

/**
 * Once a minute while this process serves replies: a reply left `streaming` that nobody has
 * touched for a minute — its process died, or (ours) its final write failed every retry — is
 * marked interrupted with the text from its log, as start-up recovery would.
 */
function ensureOrphanSweep(): void {
  if (sweeper) return;
  sweeper = setInterval(() => {
    void (async () => {
      const [db, log] = await Promise.all([getDb(), getStreamLog()]);
      const recovered = await markInterruptedMessages(db, {
        workerId: env.instanceId,
        logText: async (id) => textOfEvents((await log.read(id, 0)).events),
        running: [...live.keys()],
      });
      if (recovered > 0) {
        logger.warn({ replies: recovered }, "marked orphaned replies interrupted");
        metrics.interruptedReplies.inc(recovered);
      }
    })().catch((error: unknown) => logger.warn({ err: error }, "orphan sweep failed"));
  }, ORPHAN_SWEEP_MS);
  sweeper.unref?.();
}
