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
import { env } from "@/lib/env";
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

type QueueState = { running: boolean; again: boolean; started: boolean; idle: Promise<void>; sweeper?: ReturnType<typeof setInterval> };
const holder = globalThis as typeof globalThis & { __botGptIngest?: QueueState };
const state: QueueState = (holder.__botGptIngest ??= { running: false, again: false, started: false, idle: Promise.resolve() });

const SWEEP_EVERY_MS = 30_000;

async function sweep(): Promise<void> {
  const db = await getDb();
  const requeued = await requeueDocuments(db, { workerId: env.instanceId });
  if (requeued > 0 || (await hasPendingDocuments())) void kickIngestion();
}

const PROGRESS_EVERY_MS = 250;

async function processOne(): Promise<boolean> {
  const document = await claimNextDocument({ workerId: env.instanceId });
  if (!document) return false;
  const db = await getDb();
  const bytes = await readDocumentBlob(db, document.id);
  if (!bytes) {
    await failDocument({ id: document.id, error: { code: "document_missing", title: "Document bytes missing", status: 500, detail: "The uploaded file is missing; upload it again." } });
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
    await failDocument({ id: document.id, error: { code: outcome.code, title: "Document could not be indexed", status: 422, detail: outcome.message } });
    return true;
  }
  try {
    await completeDocument({ id: document.id, pages: outcome.pages, pageOffsets: outcome.pageOffsets, chunks: outcome.chunks, onProgress });
  } catch (error) {
    console.error("storing chunks failed", error);
    await failDocument({
      id: document.id,
      error: { code: "ingestion_failed", title: "Document could not be indexed", status: 500, detail: "The document was read but its index could not be saved. Upload it again to retry." },
    });
    return true;
  }
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
      console.error("ingestion loop failed", error);
    }
  } while (state.again);
}

/** Starts (or nudges) this instance's ingestion loop; resolves when the queue is empty. */
export function kickIngestion(): Promise<void> {
  if (state.running) {
    state.again = true;
    return state.idle;
  }
  state.running = true;
  state.idle = (async () => {
    if (!state.started) {
      state.started = true;
      const requeued = await requeueDocuments(await getDb(), { workerId: env.instanceId }).catch(() => 0);
      if (requeued > 0) console.warn(`resuming ${requeued} document(s) left processing by the last shutdown`);
      state.sweeper = setInterval(() => void sweep().catch(() => {}), SWEEP_EVERY_MS);
      state.sweeper.unref();
    }
    await drain();
  })().finally(() => {
    state.running = false;
    // A kick that landed after the last check must not wait for the next upload.
    if (state.again) void kickIngestion();
  });
  return state.idle;
}
