import { env } from "@/lib/env";
import { ExtractorPool, type ExtractionFailure } from "./extractor";

export type ExtractedChunk = {
  content: string;
  pageStart: number;
  pageEnd: number;
  charStart: number;
  charEnd: number;
  tokenCount: number;
};

type Failure = ExtractionFailure;
export type IngestOutcome = { ok: true; pages: number; chunks: ExtractedChunk[]; pageOffsets: number[] } | Failure;
export type InspectOutcome = { ok: true; pages: number } | Failure;

/** What one document may expand to while it is read (see ingest-worker.mjs and pdf-scan.mjs). */
const caps = () => ({ maxInflatedBytes: env.INGEST_MAX_INFLATED_BYTES, maxPageChars: env.INGEST_MAX_PAGE_CHARS, maxTextChars: env.INGEST_MAX_TEXT_CHARS });

// One pool for ingestion (as many children as the queue's slots) and one for the upload's quick
// check, so an upload never waits behind a long ingestion, nor (up to the same number at once)
// behind another user's upload.
const pools = ((globalThis as typeof globalThis & { __botGptExtractors?: { ingest: ExtractorPool; inspect: ExtractorPool } }).__botGptExtractors ??= {
  ingest: new ExtractorPool("ingest", env.INGEST_CONCURRENCY, env.INGEST_MEMORY_LIMIT_MB),
  inspect: new ExtractorPool("inspect", env.INGEST_CONCURRENCY, env.INGEST_MEMORY_LIMIT_MB),
});

/** Extracts pages and cuts them into chunks (the background ingestion step), within `timeoutMs`. */
export async function extractAndChunk(
  job: { bytes: Uint8Array; mimeType: string; maxPages: number; chunkTokens: number; overlap: number },
  timeoutMs: number,
  onProgress?: (value: number) => void,
): Promise<IngestOutcome> {
  const result = await pools.ingest.run({ op: "ingest", ...job, ...caps() }, timeoutMs, onProgress);
  if (!result.ok) return result;
  return { ok: true, pages: Number(result.pages), chunks: (result.chunks ?? []) as ExtractedChunk[], pageOffsets: (result.pageOffsets ?? []) as number[] };
}

/**
 * Opens a PDF just far enough to count its pages, under the same limits as ingestion: lets an
 * upload be refused at once. `timeoutMs` includes waiting for the checker.
 */
export async function inspectPdf(job: { bytes: Uint8Array; maxPages: number }, timeoutMs = 10_000): Promise<InspectOutcome> {
  const result = await pools.inspect.run({ op: "inspect", ...job, ...caps() }, timeoutMs);
  return result.ok ? { ok: true, pages: Number(result.pages) } : result;
}

/** Pids of the extraction children running a job now (operators' `ps`, and tests that play a crash). */
export function busyExtractorPids(): number[] {
  return [...pools.ingest.busyPids(), ...pools.inspect.busyPids()];
}
