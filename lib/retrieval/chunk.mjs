// Token-aware chunking of extracted pages, run by ingest-worker.mjs (never on the server's event
// loop). Plain ESM JavaScript for the same reason as the worker: Node loads it directly in
// `next start`, the standalone server and tests.
import { countBpeTokens } from "../context/bpe-count.mjs";

/**
 * Tokens of `text` in o200k, in time linear in its length: the bounded counter splits a run
 * without whitespace (a line of "a", CJK prose, base64 — one pre-token, which plain BPE merges in
 * quadratic time) into fixed pieces. Text like "<|endoftext|>" counts as the plain text it is.
 * @param {string} text
 */
export const countTokens = (text) => countBpeTokens("o200k", text);

/** Where to cut `text` near `at` without splitting a surrogate pair. @param {string} text @param {number} at */
function cutAt(text, at) {
  if (at <= 0 || at >= text.length) return Math.max(0, Math.min(at, text.length));
  const code = text.charCodeAt(at);
  return code >= 0xdc00 && code <= 0xdfff ? at + 1 : at;
}

/** @typedef {{ num: number, text: string }} Page */
/** @typedef {{ content: string, pageStart: number, pageEnd: number, charStart: number, charEnd: number, tokenCount: number }} Chunk */
/** @typedef {{ start: number, end: number, tokens: number }} Segment */

/**
 * A "word" longer than `maxTokens` (a run with no whitespace at all): cut by characters, halving
 * a window until it fits, so even one 25 MB word becomes chunk-sized pieces.
 * @param {string} text @param {number} start @param {number} end @param {number} maxTokens @param {Segment[]} out
 */
function cutWord(text, start, end, maxTokens, out) {
  for (let at = start; at < end; ) {
    let next = Math.min(end, cutAt(text, at + maxTokens));
    let tokens = countTokens(text.slice(at, next));
    while (tokens > maxTokens && next - at > 1) {
      next = cutAt(text, at + Math.floor((next - at) / 2));
      tokens = countTokens(text.slice(at, next));
    }
    out.push({ start: at, end: next, tokens });
    at = next;
  }
}

/**
 * Cuts `text` into segments at paragraph, then sentence, then word boundaries, then inside a
 * word, so that no segment exceeds `maxTokens`. Each segment keeps its character range.
 * @param {string} text @param {number} maxTokens @returns {Segment[]}
 */
function segment(text, maxTokens) {
  /** @type {Segment[]} */
  const out = [];
  /** @param {number} start @param {number} end @param {RegExp[]} splitters */
  const visit = (start, end, splitters) => {
    const piece = text.slice(start, end);
    if (!piece.trim()) return;
    const tokens = countTokens(piece);
    if (tokens <= maxTokens) {
      out.push({ start, end, tokens });
      return;
    }
    if (splitters.length === 0) {
      cutWord(text, start, end, maxTokens, out);
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
  /** The page holding `offset`: a binary search, as a text file may have thousands of pages. @param {number} offset */
  const pageAt = (offset) => {
    let low = 0;
    let high = pageStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (pageStarts[mid].start <= offset) low = mid;
      else high = mid - 1;
    }
    return pageStarts[low]?.num ?? 1;
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
