import { count, inArray } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import {
  claimNextDocument,
  completeDocument,
  failDocument,
  hasPendingDocuments,
  readDocumentBlob,
  requeueDocuments,
  setDocumentProgress,
} from "@/lib/db/queries/documents";
import { documents, type Document } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { log, userHash, withoutLogContext } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { embedDocumentChunks } from "./embeddings";
import { extractAndChunk } from "./ingest";
import { settleSearchIndex } from "./search";

/**
 * Background ingestion. The documents table is the queue: each instance claims pending rows with
 * SKIP LOCKED, parses them in a worker thread and stores chunks. Work left `processing` by a
 * stopped instance goes back to `pending` when it starts again (or, if it never does, once the row
 * has been still for 10 minutes), and every instance looks for waiting work every 30 s, so an
 * upload received by one instance is indexed even if that instance goes away.
 */

type QueueState = {
  running: boolean;
  again: boolean;
  started: boolean;
  stopping?: boolean;
  idle: Promise<void>;
  sweeper?: ReturnType<typeof setInterval>;
  /** Documents this process is indexing right now (the loop's and the admin CLI's). */
  inFlight: Set<string>;
};
const holder = globalThis as typeof globalThis & { __botGptIngest?: QueueState };
const state: QueueState = (holder.__botGptIngest ??= { running: false, again: false, started: false, idle: Promise.resolve(), inFlight: new Set() });

const SWEEP_EVERY_MS = 30_000;

/**
 * The periodic sweep: requeues work left behind (this instance's, e.g. after an error, and anyone's
 * gone still) but never a document this instance is indexing at this moment, however long it takes.
 * Returns the ids that went back to the queue.
 */
export async function sweepIngestion(): Promise<string[]> {
  const db = await getDb();
  const requeued = await requeueDocuments(db, { workerId: env.instanceId, busy: [...state.inFlight] });
  logResumed(requeued);
  if (requeued.length > 0 || (await hasPendingDocuments())) void kickIngestion();
  return requeued;
}

function logResumed(ids: string[]): void {
  if (ids.length > 0) log.warn({ event: "resumed", documents: ids.length, document_ids: ids }, "ingestion");
}

const PROGRESS_EVERY_MS = 250;

/** Keeps the queue-depth gauge at the documents waiting for or in ingestion (every instance's). */
async function updateQueueDepth(): Promise<void> {
  const db = await getDb();
  const [row] = await db.select({ n: count() }).from(documents).where(inArray(documents.status, ["pending", "processing"]));
  metrics.ingestionQueueDepth.set(row?.n ?? 0);
}

type Ended = { ok: true; pages: number; chunks: number } | { ok: false; code: string; message: string };

/** The `ingestion` line for a finished document and the duration histogram (no content, ever). */
function recordIngestion(document: { id: string; userId: string; mimeType: string }, startedAt: number, ended: Ended): void {
  const durationMs = performance.now() - startedAt;
  metrics.ingestionDuration.observe({ outcome: ended.ok ? "ready" : "failed" }, durationMs / 1000);
  const fields = { document_id: document.id, user: userHash(document.userId), mime_type: document.mimeType, duration_ms: Math.round(durationMs) };
  if (ended.ok) log.info({ ...fields, event: "ready", pages: ended.pages, chunks: ended.chunks }, "ingestion");
  else log.warn({ ...fields, event: "failed", code: ended.code, detail: ended.message }, "ingestion");
}

/** Indexes a document this process has claimed (the admin CLI's reindex claims its own). */
export async function ingestDocument(document: Document): Promise<void> {
  await processOne(document);
}

async function processOne(claimed?: Document): Promise<boolean> {
  if (!claimed && state.stopping) return false;
  if (!claimed) await updateQueueDepth().catch(() => {});
  const document = claimed ?? (await claimNextDocument({ workerId: env.instanceId }));
  if (!document) return false;
  state.inFlight.add(document.id);
  try {
    return await indexDocument(document);
  } finally {
    state.inFlight.delete(document.id);
  }
}

async function indexDocument(document: Document): Promise<true> {
  const startedAt = performance.now();
  log.info({ document_id: document.id, user: userHash(document.userId), mime_type: document.mimeType, bytes: document.sizeBytes, event: "started" }, "ingestion");
  const fail = async (error: { code: string; title: string; status: number; detail: string }) => {
    await failDocument({ id: document.id, error });
    recordIngestion(document, startedAt, { ok: false, code: error.code, message: error.detail });
  };
  const db = await getDb();
  const bytes = await readDocumentBlob(db, document.id);
  if (!bytes) {
    await fail({ code: "document_missing", title: "Document bytes missing", status: 500, detail: "The uploaded file is missing; upload it again." });
    return true;
  }
  let lastWrite = 0;
  const onProgress = (value: number) => {
    if (Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    void setDocumentProgress({ id: document.id, progress: value }).catch(() => {});
  };
  const outcome = await extractAndChunk(
    { bytes: new Uint8Array(bytes), mimeType: document.mimeType, maxPages: env.MAX_PDF_PAGES, chunkTokens: env.CHUNK_TOKENS, overlap: env.CHUNK_OVERLAP },
    onProgress,
  );
  if (!outcome.ok) {
    await fail({ code: outcome.code, title: "Document could not be indexed", status: 422, detail: outcome.message });
    return true;
  }
  try {
    await completeDocument({ id: document.id, pages: outcome.pages, pageOffsets: outcome.pageOffsets, chunks: outcome.chunks, onProgress });
  } catch (error) {
    log.error({ document_id: document.id, err: error }, "storing chunks failed");
    await fail({ code: "ingestion_failed", title: "Document could not be indexed", status: 500, detail: "The document was read but its index could not be saved. Upload it again to retry." });
    return true;
  }
  recordIngestion(document, startedAt, { ok: true, pages: outcome.pages, chunks: outcome.chunks.length });
  // Never throw. Until embeddings land (EMBEDDING_MODEL only) the document is searched lexically.
  await settleSearchIndex();
  await embedDocumentChunks({ documentId: document.id });
  return true;
}

async function drain(): Promise<void> {
  do {
    state.again = false;
    try {
      while (await processOne()) {
        // keep going while there is work
      }
    } catch (error) {
      log.error({ err: error }, "ingestion loop failed");
    }
  } while (state.again);
}

/** Starts (or nudges) this instance's ingestion loop; resolves when the queue is empty. */
export function kickIngestion(): Promise<void> {
  if (state.stopping) return Promise.resolve();
  if (state.running) {
    state.again = true;
    return state.idle;
  }
  state.running = true;
  // The loop serves every request's uploads, so its lines carry document ids, not one request's id.
  state.idle = withoutLogContext(async () => {
    if (!state.started) {
      state.started = true;
      logResumed(await requeueDocuments(await getDb(), { workerId: env.instanceId }).catch(() => []));
      state.sweeper = setInterval(() => void sweepIngestion().catch(() => {}), SWEEP_EVERY_MS);
      state.sweeper.unref();
    }
    await drain();
    await updateQueueDepth().catch(() => {});
  }).finally(() => {
    state.running = false;
    // A kick that landed after the last check must not wait for the next upload.
    if (state.again) void kickIngestion();
  });
  return state.idle;
}

/** Shutdown: claims no further document; resolves when the one being processed (if any) is done. */
export function stopIngestion(): Promise<void> {
  state.stopping = true;
  state.again = false;
  clearInterval(state.sweeper);
  return state.running ? state.idle : Promise.resolve();
}

/** Shutdown past the grace period: this instance's unfinished document goes back to `pending` for another instance. */
export async function releaseDocuments(): Promise<number> {
  return (await requeueDocuments(await getDb(), { workerId: env.instanceId, staleMs: Date.now() })).length;
}
