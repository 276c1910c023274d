// Extraction and chunking, run in a worker thread so parsing a large PDF never blocks the
// server's event loop. Plain ESM JavaScript: Node loads it directly, in `next start`, the
// standalone server and tests alike. Messages: { bytes, mimeType, maxPages, chunkTokens,
// overlap } in; { type: "progress", value } … then { type: "done", pages, chunks } or
// { type: "error", code, message } out.
import { parentPort } from "node:worker_threads";
import { chunkPages } from "./chunk.mjs";

/** @typedef {import("./chunk.mjs").Page} Page */

class IngestError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** @param {import("pdf-parse").PDFParse} parser @param {number} maxPages @returns {Promise<number>} the page count */
async function openPdf(parser, maxPages) {
  let info;
  try {
    info = await parser.getInfo();
  } catch (error) {
    const name = error && typeof error === "object" && "name" in error ? String(error.name) : "";
    if (name === "PasswordException") throw new IngestError("encrypted_document", "The PDF is password-protected; upload an unprotected copy.");
    throw new IngestError("corrupt_document", "The file is not a readable PDF (corrupt or truncated).");
  }
  const total = info.total;
  if (total > maxPages) throw new IngestError("too_many_pages", `The PDF has ${total} pages; the limit is ${maxPages}.`);
  return total;
}

/** Opens the PDF only far enough to count its pages: the upload's quick check. */
async function inspectPdf(/** @type {Uint8Array} */ bytes, /** @type {number} */ maxPages) {
  const { PDFParse } = await import("pdf-parse");
  const parser = new PDFParse({ data: bytes, stopAtErrors: true });
  try {
    return { pages: await openPdf(parser, maxPages) };
  } finally {
    await parser.destroy().catch(() => {});
  }
}

/** @param {Uint8Array} bytes @param {number} maxPages @param {(value: number) => void} onProgress @returns {Promise<Page[]>} */
async function extractPdf(bytes, maxPages, onProgress) {
  const { PDFParse } = await import("pdf-parse");
  const parser = new PDFParse({ data: bytes, stopAtErrors: true });
  try {
    const total = await openPdf(parser, maxPages);
    /** @type {Page[]} */
    const pages = [];
    const batch = 25;
    for (let first = 1; first <= total; first += batch) {
      const partial = Array.from({ length: Math.min(batch, total - first + 1) }, (_, i) => first + i);
      let result;
      try {
        result = await parser.getText({ partial });
      } catch {
        throw new IngestError("corrupt_document", `The PDF could not be read past page ${first - 1}.`);
      }
      for (const page of result.pages) pages.push({ num: page.num, text: page.text });
      onProgress(Math.min(0.5, (pages.length / total) * 0.5));
    }
    return pages;
  } finally {
    await parser.destroy().catch(() => {});
  }
}

/** @param {Uint8Array} bytes @returns {Page[]} */
function extractText(bytes) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new IngestError("invalid_encoding", "Text files must be UTF-8.");
  }
  if (text.includes("\u0000")) throw new IngestError("invalid_encoding", "The file looks binary, not text.");
  // Form feeds mark pages in plain-text exports; otherwise the whole file is page 1.
  return text.split("\f").map((pageText, i) => ({ num: i + 1, text: pageText }));
}

/** @param {{ bytes: Uint8Array, mimeType: string, maxPages: number, chunkTokens: number, overlap: number }} job */
async function ingest(job) {
  const progress = (/** @type {number} */ value) => parentPort?.postMessage({ type: "progress", value });
  const pages = job.mimeType === "application/pdf" ? await extractPdf(job.bytes, job.maxPages, progress) : extractText(job.bytes);
  const textChars = pages.reduce((n, p) => n + p.text.trim().length, 0);
  if (textChars === 0) {
    throw new IngestError(
      "no_extractable_text",
      job.mimeType === "application/pdf"
        ? "The PDF has no extractable text (a scan or images only). Run OCR on it first."
        : "The file is empty.",
    );
  }
  const { chunks, pageOffsets } = chunkPages(pages, job.chunkTokens, job.overlap);
  progress(0.6);
  return { pages: pages.length, chunks, pageOffsets };
}

parentPort?.on("message", (job) => {
  (job.op === "inspect" ? inspectPdf(job.bytes, job.maxPages) : ingest(job)).then(
    (result) => parentPort?.postMessage({ type: "done", ...result }),
    (error) =>
      parentPort?.postMessage({
        type: "error",
        code: error instanceof IngestError ? error.code : "ingestion_failed",
        message: error instanceof IngestError ? error.message : "The document could not be processed.",
      }),
  );
});
