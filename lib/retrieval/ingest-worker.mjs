// Text extraction and chunking, run in a child process (lib/retrieval/ingest.ts starts it under a
// hard memory limit), so a hostile file can at worst kill this process, never the server. Plain
// ESM JavaScript: Node loads it directly in `next start`, the standalone server and tests alike.
// It inherits no environment (no secrets). Messages over the IPC channel: a job { id, op, bytes,
// mimeType, maxPages, chunkTokens, overlap, maxInflatedBytes, maxPageChars, maxTextChars } in;
// { id, type: "progress", value } … then { id, type: "done", pages, chunks?, pageOffsets? } or
// { id, type: "error", code, message } out.
import { chunkPages } from "./chunk.mjs";
import { checkInflatedSize, TooComplexError } from "./pdf-scan.mjs";

/** @typedef {import("./chunk.mjs").Page} Page */
/** @typedef {{ maxInflatedBytes: number, maxPageChars: number, maxTextChars: number }} Caps */

class IngestError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const tooComplex = (/** @type {string} */ message) => new IngestError("document_too_complex", message);

/** Opens the PDF after the inflate budget check: pdf.js never sees a bomb. @param {Uint8Array} bytes @param {Caps} caps */
async function openParser(bytes, caps) {
  try {
    checkInflatedSize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), caps.maxInflatedBytes);
  } catch (error) {
    if (error instanceof TooComplexError) throw tooComplex(error.message);
    throw error;
  }
  const { PDFParse } = await import("pdf-parse");
  return new PDFParse({ data: bytes, stopAtErrors: true });
}

/** @param {import("pdf-parse").PDFParse} parser @param {number} maxPages @returns {Promise<number>} the page count */
async function openPdf(parser, maxPages) {
  let info;
  try {
    info = await parser.getInfo();
  } catch (error) {
    const name = error && typeof error === "object" && "name" in error ? String(error.name) : "";
    if (name === "PasswordException") throw new IngestError("encrypted_document", "The PDF is password-protected; upload an unprotected copy.");
    if (isMemoryError(error)) throw error;
    throw new IngestError("corrupt_document", "The file is not a readable PDF (corrupt or truncated).");
  }
  const total = info.total;
  if (total > maxPages) throw new IngestError("too_many_pages", `The PDF has ${total} pages; the limit is ${maxPages}.`);
  return total;
}

/** Opens the PDF only far enough to count its pages: the upload's quick check. @param {Uint8Array} bytes @param {number} maxPages @param {Caps} caps */
async function inspectPdf(bytes, maxPages, caps) {
  const parser = await openParser(bytes, caps);
  try {
    return { pages: await openPdf(parser, maxPages) };
  } finally {
    await parser.destroy().catch(() => {});
  }
}

/**
 * In batches of pages (one call per page is twice as slow), checking the text caps after each:
 * a page may hold `maxPageChars`, the document `maxTextChars` (a real page holds a few thousand
 * characters). Memory within a batch is bounded by the process's limit.
 * @param {Uint8Array} bytes @param {number} maxPages @param {Caps} caps @param {(value: number) => void} onProgress @returns {Promise<Page[]>}
 */
async function extractPdf(bytes, maxPages, caps, onProgress) {
  const parser = await openParser(bytes, caps);
  try {
    const total = await openPdf(parser, maxPages);
    /** @type {Page[]} */
    const pages = [];
    let chars = 0;
    const batch = 25;
    for (let first = 1; first <= total; first += batch) {
      const partial = Array.from({ length: Math.min(batch, total - first + 1) }, (_, i) => first + i);
      let result;
      try {
        result = await parser.getText({ partial });
      } catch (error) {
        if (isMemoryError(error)) throw error;
        throw new IngestError("corrupt_document", `The PDF could not be read past page ${first - 1}.`);
      }
      for (const page of result.pages) {
        if (page.text.length > caps.maxPageChars) throw tooComplex(`Page ${page.num} holds more than ${caps.maxPageChars} characters of text.`);
        chars += page.text.length;
        if (chars > caps.maxTextChars) throw tooComplex(`The PDF holds more than ${caps.maxTextChars} characters of text.`);
        pages.push({ num: page.num, text: page.text });
      }
      onProgress(Math.min(0.5, (pages.length / total) * 0.5));
    }
    return pages;
  } finally {
    await parser.destroy().catch(() => {});
  }
}

/** @param {Uint8Array} bytes @param {number} maxPages @param {Caps} caps @returns {Page[]} */
function extractText(bytes, maxPages, caps) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new IngestError("invalid_encoding", "Text files must be UTF-8.");
  }
  if (text.includes("\u0000")) throw new IngestError("invalid_encoding", "The file looks binary, not text.");
  if (text.length > caps.maxTextChars) throw tooComplex(`The file holds more than ${caps.maxTextChars} characters of text.`);
  // Form feeds mark pages in plain-text exports; otherwise the whole file is page 1.
  const pages = text.split("\f");
  if (pages.length > maxPages) throw new IngestError("too_many_pages", `The file has ${pages.length} pages (form feeds); the limit is ${maxPages}.`);
  return pages.map((pageText, i) => ({ num: i + 1, text: pageText }));
}

/**
 * An allocation that failed under the process's memory limit: V8 throws a RangeError, which
 * pdf.js passes on wrapped (an UnknownErrorException with the same message).
 * @param {unknown} error
 */
function isMemoryError(error) {
  return error instanceof Error && /array buffer allocation failed|invalid (typed )?array length|invalid string length|out of memory/i.test(error.message);
}

/** @param {{ bytes: Uint8Array, mimeType: string, maxPages: number, chunkTokens: number, overlap: number } & Caps} job @param {(value: number) => void} progress */
async function ingest(job, progress) {
  const pages = job.mimeType === "application/pdf" ? await extractPdf(job.bytes, job.maxPages, job, progress) : extractText(job.bytes, job.maxPages, job);
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

/** @param {Record<string, unknown>} message */
const send = (message) => process.send?.(message);

process.on("message", (/** @type {any} */ job) => {
  const progress = (/** @type {number} */ value) => send({ id: job.id, type: "progress", value });
  (job.op === "inspect" ? inspectPdf(job.bytes, job.maxPages, job) : ingest(job, progress)).then(
    (result) => send({ id: job.id, type: "done", ...result }),
    (error) => {
      const known = error instanceof IngestError ? error : isMemoryError(error) ? tooComplex("The document needs more memory to read than the server allows.") : null;
      send({ id: job.id, type: "error", code: known?.code ?? "ingestion_failed", message: known?.message ?? "The document could not be processed." });
    },
  );
});
// The server went away: so does this process.
process.on("disconnect", () => process.exit(0));
