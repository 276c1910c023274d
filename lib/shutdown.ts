import { env } from "@/lib/env";
import { errorMessage, log } from "@/lib/log";

/**
 * Graceful shutdown on SIGTERM/SIGINT. The process first reports itself draining (GET /api/ready
 * answers 503, so a load balancer stops sending it traffic; /api/health stays 200), then waits up
 * to SHUTDOWN_GRACE_MS for the replies it is writing. Replies still running at the deadline are
 * handed off: their logged events are flushed and their rows marked `interrupted`, which is what a
 * reader resuming on another instance (Last-Event-ID) and the client's retry act on. Ingestion
 * stops and gives its document back to the queue, the database and Redis are closed, the
 * registered hooks run (tracing export), and the process exits 0.
 *
 * Next.js stops the process on these signals itself unless NEXT_MANUAL_SIG_HANDLE is set (the
 * Dockerfile and `npm start` set it), so the handlers are installed only then (instrumentation.ts).
 */

type ShutdownState = { draining: boolean; handled: boolean; hooks: Map<string, () => Promise<void> | void> };

// On globalThis: instrumentation and the route bundles each load their own copy of this module.
const holder = globalThis as typeof globalThis & { __botGptShutdown?: ShutdownState };
const state: ShutdownState = (holder.__botGptShutdown ??= { draining: false, handled: false, hooks: new Map() });

/** True once a shutdown has begun; /api/ready reports 503 from then on. */
export function isDraining(): boolean {
  return state.draining;
}

/**
 * Runs `hook` during shutdown, after the database and Redis are closed and before the process
 * exits (e.g. flushing the OpenTelemetry exporter). A second hook under the same name replaces the first.
 */
export function onShutdown(name: string, hook: () => Promise<void> | void): void {
  state.hooks.set(name, hook);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles with the promise, or after `ms` whatever it does; says which. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type DrainReport = { waitedMs: number; finished: boolean; interrupted: number; requeuedDocuments: number };

/**
 * Everything but the exit: drains replies and ingestion within `graceMs`, then closes the pools
 * and runs the hooks. Safe to call more than once (later calls find nothing left to do).
 */
export async function drain(graceMs = env.SHUTDOWN_GRACE_MS): Promise<DrainReport> {
  state.draining = true;
  const started = Date.now();
  const deadline = started + graceMs;
  const [runs, queue, db, redis] = await Promise.all([
    import("@/lib/streams/runs"),
    import("@/lib/retrieval/queue"),
    import("@/lib/db/client"),
    import("@/lib/redis"),
  ]);
  log.info({ event: "shutdown_draining", active_replies: runs.activeReplyCount(), grace_ms: graceMs }, "shutdown: draining");

  // No new document is claimed; the one being parsed may finish while the replies do.
  const ingestion = queue.stopIngestion();
  while (runs.activeReplyCount() > 0 && Date.now() < deadline) await sleep(100);
  const finished = runs.activeReplyCount() === 0;
  const interrupted = finished ? 0 : await runs.handOffReplies().catch((error: unknown) => {
    log.error({ event: "shutdown_handoff_failed", err: errorMessage(error) }, "shutdown: marking replies interrupted failed");
    return 0;
  });
  const ingestionDone = await within(ingestion, Math.max(0, deadline - Date.now()));
  const requeuedDocuments = ingestionDone ? 0 : await queue.releaseDocuments().catch(() => 0);

  await Promise.allSettled([db.closeDb(), redis.closeRedis()]);
  for (const [name, hook] of state.hooks) {
    await within(Promise.resolve().then(hook), 5_000).catch(() => {});
    log.debug({ event: "shutdown_hook", hook: name }, "shutdown hook ran");
  }
  const report = { waitedMs: Date.now() - started, finished, interrupted, requeuedDocuments };
  log.info({ event: "shutdown_done", waited_ms: report.waitedMs, interrupted, requeued_documents: requeuedDocuments }, "shutdown: done");
  return report;
}

/** Installs the SIGTERM/SIGINT handlers (once per process): drain, flush the log, exit 0. */
export function handleSignals(): void {
  if (state.handled) return;
  state.handled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.draining) return; // a second Ctrl+C while draining changes nothing
    log.info({ event: "shutdown_signal", signal }, `shutdown: ${signal} received`);
    void drain()
      .catch((error: unknown) => log.error({ event: "shutdown_failed", err: errorMessage(error) }, "shutdown failed"))
      .finally(() => log.flush(() => process.exit(0)));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
