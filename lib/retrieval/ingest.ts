import path from "node:path";
import { Worker } from "node:worker_threads";

export type ExtractedChunk = {
  content: string;
  pageStart: number;
  pageEnd: number;
  charStart: number;
  charEnd: number;
  tokenCount: number;
};

type Failure = { ok: false; code: string; message: string };
export type IngestOutcome = { ok: true; pages: number; chunks: ExtractedChunk[]; pageOffsets: number[] } | Failure;
export type InspectOutcome = { ok: true; pages: number } | Failure;

// Plain .mjs beside this file, loaded by path: the same file in dev, `next start`, the standalone
// image (traced via outputFileTracingIncludes) and tests.
const WORKER_PATH = path.join(process.cwd(), "lib", "retrieval", "ingest-worker.mjs");
const INGEST_TIMEOUT_MS = 120_000;

type WorkerMessage =
  | { type: "progress"; value: number }
  | { type: "done"; pages: number; chunks?: ExtractedChunk[]; pageOffsets?: number[] }
  | { type: "error"; code: string; message: string };

const IDLE_MS = 60_000;

/**
 * A worker thread that runs jobs one at a time, so parsing never blocks the server's event loop.
 * It stays warm between jobs (loading pdf.js is most of a small file's cost) and is stopped when
 * idle; a job that times out or crashes it gets the thread terminated and the next job a new one.
 */
class WorkerSlot {
  private worker: Worker | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  run(job: Record<string, unknown>, timeoutMs: number, onProgress: (value: number) => void = () => {}): Promise<IngestOutcome> {
    const result = this.tail.then(() => this.runNow(job, timeoutMs, onProgress));
    this.tail = result.catch(() => {});
    return result;
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_PATH, { resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    // An idle parser never keeps a process (a test run, the CLI) alive.
    worker.unref();
    worker.on("error", () => {});
    return worker;
  }

  private kill() {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
  }

  private runNow(job: Record<string, unknown>, timeoutMs: number, onProgress: (value: number) => void): Promise<IngestOutcome> {
    clearTimeout(this.idleTimer);
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: IngestOutcome, broken = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        if (broken) this.kill();
        else this.idleTimer = setTimeout(() => this.kill(), IDLE_MS).unref();
        resolve(outcome);
      };
      const onMessage = (message: WorkerMessage) => {
        if (message.type === "progress") onProgress(message.value);
        else if (message.type === "done") settle({ ok: true, pages: message.pages, chunks: message.chunks ?? [], pageOffsets: message.pageOffsets ?? [] });
        else settle({ ok: false, code: message.code, message: message.message });
      };
      const onError = () => settle({ ok: false, code: "ingestion_failed", message: "The document could not be processed." }, true);
      const onExit = (code: number) => settle({ ok: false, code: "ingestion_failed", message: `The document processor stopped (exit ${code}).` }, true);
      const timer = setTimeout(() => settle({ ok: false, code: "ingestion_timeout", message: "The document took too long to process." }, true), timeoutMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage(job);
    });
  }
}

// Two threads: a quick upload check never waits behind a long ingestion.
const slots = ((globalThis as typeof globalThis & { __botGptParsers?: { ingest: WorkerSlot; inspect: WorkerSlot } }).__botGptParsers ??= {
  ingest: new WorkerSlot(),
  inspect: new WorkerSlot(),
});

/** Extracts pages and cuts them into chunks (the background ingestion step). */
export function extractAndChunk(
  job: { bytes: Uint8Array; mimeType: string; maxPages: number; chunkTokens: number; overlap: number },
  onProgress?: (value: number) => void,
): Promise<IngestOutcome> {
  return slots.ingest.run({ op: "ingest", ...job }, INGEST_TIMEOUT_MS, onProgress);
}

/** Opens a PDF just far enough to count its pages: lets an upload be refused at once. */
export async function inspectPdf(job: { bytes: Uint8Array; maxPages: number }, timeoutMs = 10_000): Promise<InspectOutcome> {
  const outcome = await slots.inspect.run({ op: "inspect", ...job }, timeoutMs);
  return outcome.ok ? { ok: true, pages: outcome.pages } : outcome;
}
