import { count, inArray } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import {
  attemptsExceeded,
  claimNextDocument,
  failDocument,
  hasPendingDocuments,
  releaseDocuments as releaseOwnDocuments,
  requeueDocuments,
  retryDocument,
  setDocumentProgress,
} from "@/lib/db/queries/document-queue";
import { completeDocument, readDocumentBlob } from "@/lib/db/queries/documents";
import { documents, type Document, type StoredProblem } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { log, userHash, withoutLogContext } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { embedDocumentChunks } from "./embeddings";
import { extractAndChunk } from "./ingest";
import { settleSearchIndex } from "./search";

/**
 * Background ingestion. The documents table is the queue: each instance runs INGEST_CONCURRENCY
 * slots that claim pending rows fairly (the user with the fewest documents in flight first) with
 * SKIP LOCKED, read them in memory-capped child processes under a time limit that grows with the
 * file's size, and store chunks. Work left `processing` by a stopped instance goes back to
 * `pending` when it starts again (or, if it never does, once the row has been still for 10
 * minutes), until a document has used its attempts; every instance looks for waiting work every
 * 30 s, so an upload received by one instance is indexed even if that instance goes away.
 */

type QueueState = {
  /** Slots looking for or processing a document right now. */
  slots: number;
  /** Slots plus the start-up requeue: the queue is idle when this is 0. */
  busy: number;
  /** Bumped by every kick, so a slot that found nothing looks again if work arrived meanwhile. */
  kicks: number;
  started: boolean;
  stopping?: boolean;
  idle: Promise<void>;
  settled: boolean;
  settle: () => void;
  sweeper?: ReturnType<typeof setInterval>;
  /** Documents this process is indexing right now (the slots' and the admin CLI's). */
  inFlight: Set<string>;
};
const holder = globalThis as typeof globalThis & { __botGptIngestQueue?: QueueState };
const state: QueueState = (holder.__botGptIngestQueue ??= {
  slots: 0,
  busy: 0,
  kicks: 0,
  started: false,
  idle: Promise.resolve(),
  settled: true,
  settle: () => {},
  inFlight: new Set(),
});

const SWEEP_EVERY_MS = 30_000;
const PROGRESS_EVERY_MS = 250;

/**
 * The periodic sweep: requeues work left behind (this instance's, e.g. after an error, and anyone's
 * gone still) but never a document this instance is indexing at this moment, however long it takes.
 * Returns the ids that went back to the queue.
 */
export async function sweepIngestion(): Promise<string[]> {
  const db = await getDb();
  const outcome = await requeueDocuments(db, { workerId: env.instanceId, maxAttempts: env.INGEST_MAX_ATTEMPTS, busy: [...state.inFlight] });
  logResumed(outcome);
  if (outcome.requeued.length > 0 || (await hasPendingDocuments())) void kickIngestion();
  return outcome.requeued;
}

function logResumed({ requeued, failed }: { requeued: string[]; failed: string[] }): void {
  if (requeued.length > 0) log.warn({ event: "resumed", documents: requeued.length, document_ids: requeued }, "ingestion");
  if (failed.length > 0) log.warn({ event: "attempts_exceeded", documents: failed.length, document_ids: failed }, "ingestion");
}

/** Keeps the queue-depth gauge at the documents waiting for or in ingestion (every instance's). */
async function updateQueueDepth(): Promise<void> {
  const db = await getDb();
  const [row] = await db.select({ n: count() }).from(documents).where(inArray(documents.status, ["pending", "processing"]));
  metrics.ingestionQueueDepth.set(row?.n ?? 0);
}

type Ended = { ok: true; pages: number; chunks: number } | { ok: false; code: string; message: string };

/** The `ingestion` line for a finished document and the duration histogram (no content, ever). */
function recordIngestion(document: Document, startedAt: number, ended: Ended): void {
  const durationMs = performance.now() - startedAt;
  metrics.ingestionDuration.observe({ outcome: ended.ok ? "ready" : "failed" }, durationMs / 1000);
  const fields = { document_id: document.id, user: userHash(document.userId), mime_type: document.mimeType, attempt: document.attempts, duration_ms: Math.round(durationMs) };
  if (ended.ok) log.info({ ...fields, event: "ready", pages: ended.pages, chunks: ended.chunks }, "ingestion");
  else log.warn({ ...fields, event: "failed", code: ended.code, detail: ended.message }, "ingestion");
}

/** The time one document may take: a base plus so much per MB, so a big file is not cut short and a small one cannot hold a slot for long. */
function ingestionTimeoutMs(sizeBytes: number): number {
  return env.INGEST_TIMEOUT_BASE_MS + Math.ceil((env.INGEST_TIMEOUT_PER_MB_MS * sizeBytes) / (1024 * 1024));
}

/** Indexes a document this process has claimed (the admin CLI's reindex claims its own). */
export async function ingestDocument(document: Document): Promise<void> {
  state.inFlight.add(document.id);
  try {
    await indexDocument(document);
  } finally {
    state.inFlight.delete(document.id);
  }
}

async function indexDocument(document: Document): Promise<void> {
  const startedAt = performance.now();
  log.info({ document_id: document.id, user: userHash(document.userId), mime_type: document.mimeType, bytes: document.sizeBytes, attempt: document.attempts, event: "started" }, "ingestion");
  const fail = async (error: StoredProblem) => {
    await failDocument({ id: document.id, error });
    recordIngestion(document, startedAt, { ok: false, code: error.code, message: error.detail ?? error.title });
  };
  // Claimed more often than allowed (the limit was lowered, or a sweep raced a crash).
  if (document.attempts > env.INGEST_MAX_ATTEMPTS) return fail(attemptsExceeded(document.attempts - 1));
  const db = await getDb();
  const bytes = await readDocumentBlob(db, document.id);
  if (!bytes) return fail({ code: "document_missing", title: "Document bytes missing", status: 500, detail: "The uploaded file is missing; upload it again." });
  let lastWrite = 0;
  const onProgress = (value: number) => {
    if (Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    void setDocumentProgress({ id: document.id, progress: value }).catch(() => {});
  };
  const outcome = await extractAndChunk(
    { bytes: new Uint8Array(bytes), mimeType: document.mimeType, maxPages: env.MAX_PDF_PAGES, chunkTokens: env.CHUNK_TOKENS, overlap: env.CHUNK_OVERLAP },
    ingestionTimeoutMs(document.sizeBytes),
    onProgress,
  );
  if (!outcome.ok && outcome.crashed) {
    // The process reading it died (a crash, an outside kill): another attempt, unless it has had them all.
    if (document.attempts >= env.INGEST_MAX_ATTEMPTS) return fail(attemptsExceeded(document.attempts));
    log.warn({ document_id: document.id, attempt: document.attempts, event: "retry" }, "ingestion");
    await retryDocument({ id: document.id });
    return;
  }
  if (!outcome.ok) return fail({ code: outcome.code, title: "Document could not be indexed", status: 422, detail: outcome.message });
  try {
    await completeDocument({ id: document.id, pages: outcome.pages, pageOffsets: outcome.pageOffsets, chunks: outcome.chunks, onProgress });
  } catch (error) {
    log.error({ document_id: document.id, err: error }, "storing chunks failed");
    return fail({ code: "ingestion_failed", title: "Document could not be indexed", status: 500, detail: "The document was read but its index could not be saved. Upload it again to retry." });
  }
  recordIngestion(document, startedAt, { ok: true, pages: outcome.pages, chunks: outcome.chunks.length });
  // Never throw. Until embeddings land (EMBEDDING_MODEL only) the document is searched lexically.
  await settleSearchIndex();
  await embedDocumentChunks({ documentId: document.id });
}

/** Work that keeps the queue from being idle starts… */
function begin(): void {
  if (state.settled) {
    state.settled = false;
    state.idle = new Promise((resolve) => (state.settle = resolve));
  }
  state.busy++;
}

/** …and ends; the last one to end resolves everyone waiting for an empty queue. */
async function end(): Promise<void> {
  state.busy--;
  if (state.busy > 0) return;
  await updateQueueDepth().catch(() => {});
  // A kick during that await started new work, which now owes the waiters.
  if (state.busy === 0 && !state.settled) {
    state.settled = true;
    state.settle();
  }
}

/** One slot: claims and indexes documents until none is left to claim. */
async function runSlot(): Promise<void> {
  try {
    while (!state.stopping) {
      const kicks = state.kicks;
      await updateQueueDepth().catch(() => {});
      const document = await claimNextDocument({ workerId: env.instanceId });
      if (document) {
        await ingestDocument(document);
        // Other slots may have stopped for lack of claimable work (a row locked for a moment).
        fillSlots();
      } else if (kicks === state.kicks) break;
    }
  } catch (error) {
    log.error({ err: error }, "ingestion loop failed");
  } finally {
    state.slots--;
    await end();
  }
}

function fillSlots(): void {
  while (!state.stopping && state.slots < env.INGEST_CONCURRENCY) {
    state.slots++;
    begin();
    // The slots serve every request's uploads, so their lines carry document ids, not one request's id.
    void withoutLogContext(runSlot);
  }
}

/** Starts (or nudges) this instance's ingestion slots; resolves when the queue is empty. */
export function kickIngestion(): Promise<void> {
  if (state.stopping) return Promise.resolve();
  state.kicks++;
  if (!state.started) {
    state.started = true;
    state.sweeper = setInterval(() => void sweepIngestion().catch(() => {}), SWEEP_EVERY_MS);
    state.sweeper.unref();
    // What this instance left processing when it last stopped goes back to the queue first.
    begin();
    void withoutLogContext(async () => {
      try {
        logResumed(await requeueDocuments(await getDb(), { workerId: env.instanceId, maxAttempts: env.INGEST_MAX_ATTEMPTS }));
      } catch (error) {
        log.error({ err: error }, "requeueing documents at start-up failed");
      }
      state.kicks++;
      fillSlots();
      await end();
    });
  }
  fillSlots();
  return state.idle;
}

/** Shutdown: claims no further document; resolves when the ones being processed are done. */
export function stopIngestion(): Promise<void> {
  state.stopping = true;
  clearInterval(state.sweeper);
  return state.busy > 0 ? state.idle : Promise.resolve();
}

/** Shutdown past the grace period: this instance's unfinished documents go back to `pending` for another instance. */
export async function releaseDocuments(): Promise<number> {
  return releaseOwnDocuments(await getDb(), { workerId: env.instanceId });
}
