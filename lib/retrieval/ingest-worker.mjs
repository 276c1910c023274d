// Extraction and chunking, run in a worker thread so parsing a large PDF never blocks the
// server's event loop. Plain ESM JavaScript: Node loads it directly, in `next start`, the
// standalone server and tests alike. Messages: { bytes, mimeType, maxPages, chunkTokens,
// overlap } in; { type: "progress", value } … then { type: "done", pages, chunks } or
// { type: "error", code, message } out.
import { parentPort } from "node:worker_threads";
import { countBpeTokens } from "../context/bpe-count.mjs";

// Linear in the text (a run of one character no longer costs quadratic time), and text like
// "<|endoftext|>" in a document is counted as the plain text it is.
/** @param {string} text */
const countTokens = (text) => countBpeTokens("o200k", text);

/** @typedef {{ num: number, text: string }} Page */
/** @typedef {{ content: string, pageStart: number, pageEnd: number, charStart: number, charEnd: number, tokenCount: number }} Chunk */

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

/**
 * Cuts `text` into segments at paragraph, then sentence, then word boundaries, so that no
 * segment exceeds `maxTokens`. Each segment keeps its character range.
 * @param {string} text @param {number} maxTokens
 */
function segment(text, maxTokens) {
  /** @type {{ start: number, end: number, tokens: number }[]} */
  const out = [];
  /** @param {number} start @param {number} end @param {RegExp[]} splitters */
  const visit = (start, end, splitters) => {
    const piece = text.slice(start, end);
    if (!piece.trim()) return;
    const tokens = countTokens(piece);
    if (tokens <= maxTokens || splitters.length === 0) {
      out.push({ start, end, tokens });
      return;
    }
    const [splitter, ...rest] = splitters;
    let cursor = start;
    const re = new RegExp(splitter.source, "g");
    let match;
    while ((match = re.exec(piece)) !== null) {
      const cut = start + match.index + match[0].length;
      if (cut > cursor) visit(cursor, cut, rest);
      cursor = cut;
      if (match[0].length === 0) re.lastIndex++;
    }
    if (cursor < end) visit(cursor, end, rest);
  };
  visit(0, text.length, [/\n\s*\n/, /(?<=[.!?])\s+/, /\s+/]);
  return out;
}

/**
 * Token-aware chunking: packs segments up to `chunkTokens`, starting each new chunk with the
 * previous chunk's last segments worth up to `overlap` of its size. A page break ends a chunk
 * that is already half full, so chunks of normal pages stay on one page and citations stay exact.
 * Returns the chunks and the offset where each page starts in the joined text.
 * @param {Page[]} pages @param {number} chunkTokens @param {number} overlap @returns {{ chunks: Chunk[], pageOffsets: number[] }}
 */
export function chunkPages(pages, chunkTokens, overlap) {
  let text = "";
  /** @type {{ start: number, num: number }[]} */
  const pageStarts = [];
  /** @type {{ start: number, end: number, tokens: number, firstOnPage: boolean }[]} */
  const segments = [];
  for (const page of pages) {
    if (text) text += "\n\n";
    const start = text.length;
    pageStarts.push({ start, num: page.num });
    const pageText = page.text.replace(/\r\n?/g, "\n");
    text += pageText;
    segment(pageText, chunkTokens).forEach((seg, i) =>
      segments.push({ start: start + seg.start, end: start + seg.end, tokens: seg.tokens, firstOnPage: i === 0 }),
    );
  }
  /** @param {number} offset */
  const pageAt = (offset) => {
    let num = pageStarts[0]?.num ?? 1;
    for (const p of pageStarts) {
      if (p.start <= offset) num = p.num;
      else break;
    }
    return num;
  };
  const overlapTokens = Math.floor(chunkTokens * overlap);
  /** @type {Chunk[]} */
  const chunks = [];
  /** @type {typeof segments} */
  let current = [];
  let tokens = 0;
  const flush = () => {
    if (current.length === 0) return;
    const start = current[0].start;
    const end = current[current.length - 1].end;
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const trail = raw.length - raw.trimEnd().length;
    const charStart = start + lead;
    const charEnd = end - trail;
    chunks.push({
      content: text.slice(charStart, charEnd),
      pageStart: pageAt(charStart),
      pageEnd: pageAt(Math.max(charStart, charEnd - 1)),
      charStart,
      charEnd,
      tokenCount: tokens,
    });
  };
  for (const seg of segments) {
    const full = tokens + seg.tokens > chunkTokens;
    const pageBreak = seg.firstOnPage && tokens >= chunkTokens / 2;
    if ((full || pageBreak) && current.length > 0) {
      flush();
      // Carry the tail of the previous chunk forward as overlap (not across a page break).
      const carried = [];
      let carriedTokens = 0;
      for (let i = current.length - 1; i >= 0 && !pageBreak; i--) {
        if (carriedTokens + current[i].tokens > overlapTokens) break;
        carried.unshift(current[i]);
        carriedTokens += current[i].tokens;
      }
      current = carried;
      tokens = carriedTokens;
    }
    current.push(seg);
    tokens += seg.tokens;
  }
  flush();
  return { chunks, pageOffsets: pageStarts.map((p) => p.start) };
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
