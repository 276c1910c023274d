// Bounded BPE token counting for OpenAI's o200k and cl100k encodings: the one module that runs
// byte-pair encoding (the server and the ingestion worker both import it, so it is plain ESM).
// gpt-tokenizer supplies the data — each encoding's merge ranks and its pre-tokenizer regex — and
// this module the merge, because gpt-tokenizer 4's merge rescans every pair after each merge
// (quadratic in one pre-token: 32,000 CJK characters in a row took 25 s) and decodes bytes to a
// string for every rank lookup. Here a pre-token is merged with a heap in O(b log b) over its b
// bytes, ranks are looked up without allocating for tokens of up to 6 bytes, and a pre-token
// longer than MAX_PIECE_CHARS is counted in pieces of that length, which keeps the scratch memory
// fixed. The result equals gpt-tokenizer's count whenever no pre-token is longer than that; for
// longer ones see PIECE_CUT_ALLOWANCE.
import cl100kRanks from "gpt-tokenizer/bpeRanks/cl100k_base";
import o200kRanks from "gpt-tokenizer/bpeRanks/o200k_base";
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";

/** Pre-tokens longer than this many UTF-16 code units are counted in pieces this long. */
export const MAX_PIECE_CHARS = 512;
/**
 * Added per cut: merges across a cut are lost, which usually adds a token and can, rarely, save
 * one (a cut can free a byte for a better merge on its far side). Measured in
 * lib/context/tokens.test.ts: never below the exact count with this allowance, and above it by at
 * most 2 tokens per cut (≤ 0.1 % of a 4,096-character piece).
 */
export const PIECE_CUT_ALLOWANCE = 1;
/** Counts in the yielding variant are taken in slices of about this many milliseconds. */
export const DEFAULT_SLICE_MS = 8;

const MAX_PIECE_BYTES = MAX_PIECE_CHARS * 3;
/** Tokens of at most this many bytes are keyed by a number: no string is built to look them up. */
const SHORT_TOKEN_BYTES = 6;
const POSITION_SPAN = 2 ** 23; // > MAX_PIECE_BYTES: heap keys are rank * POSITION_SPAN + position

/**
 * @typedef {{ short: Map<number, number>, long: Map<string, number>, maxTokenBytes: number, regex: RegExp }} Encoding
 */

const SOURCES = {
  o200k: { ranks: o200kRanks, regex: O200K_TOKEN_SPLIT_REGEX },
  cl100k: { ranks: cl100kRanks, regex: CL100K_TOKEN_SPLIT_REGEX },
};
// Built once per process, on globalThis: the tables (about 8 MB each) are warmed from
// instrumentation, which Next.js bundles apart from the routes that use them.
const holder = /** @type {typeof globalThis & { __botGptBpe?: Partial<Record<"o200k" | "cl100k", Encoding>> }} */ (globalThis);
const built = (holder.__botGptBpe ??= {});

// Scratch space for one piece, shared: counting is synchronous, so calls never interleave.
const bytes = new Uint8Array(MAX_PIECE_BYTES + 4);
const next = new Int32Array(MAX_PIECE_BYTES + 1);
const prev = new Int32Array(MAX_PIECE_BYTES + 1);
const pairRank = new Int32Array(MAX_PIECE_BYTES + 1);
const heap = new Float64Array(3 * MAX_PIECE_BYTES + 4);

/** UTF-8 of `text[start, end)` into `out`, lone surrogates as U+FFFD (as TextEncoder does); returns the length. */
function encodeUtf8(text, start, end, out) {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 63);
    out[n++] = 0x80 | (c & 63);
  }
  return n;
}

/** A number unique to a byte string of 1–6 bytes: a leading 1 keeps lengths apart. */
function shortKey(source, start, end) {
  let key = 1;
  for (let i = start; i < end; i++) key = key * 256 + source[i];
  return key;
}

function latin1(source, start, end) {
  return String.fromCharCode.apply(null, source.subarray(start, end));
}

/** @param {"o200k" | "cl100k"} name @returns {Encoding} */
function encoding(name) {
  const ready = built[name];
  if (ready) return ready;
  const entry = SOURCES[name];
  const short = new Map();
  const long = new Map();
  const scratch = new Uint8Array(1024);
  let maxTokenBytes = 0;
  entry.ranks.forEach((token, rank) => {
    let length;
    let source;
    if (typeof token === "string") {
      length = encodeUtf8(token, 0, token.length, scratch);
      source = scratch;
    } else {
      length = token.length;
      source = Uint8Array.from(token);
    }
    maxTokenBytes = Math.max(maxTokenBytes, length);
    if (length <= SHORT_TOKEN_BYTES) short.set(shortKey(source, 0, length), rank);
    else long.set(latin1(source, 0, length), rank);
  });
  return (built[name] = { short, long, maxTokenBytes, regex: new RegExp(entry.regex.source, entry.regex.flags) });
}

/** The rank of `bytes[start, end)` as one token, or -1. */
function rankOf(enc, start, end) {
  const length = end - start;
  if (length <= SHORT_TOKEN_BYTES) return enc.short.get(shortKey(bytes, start, end)) ?? -1;
  if (length > enc.maxTokenBytes) return -1;
  return enc.long.get(latin1(bytes, start, end)) ?? -1;
}

function heapPush(size, key) {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent] <= key) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = key;
  return size + 1;
}

/** Removes the smallest key (read it from heap[0] first); returns the new size. */
function heapPop(size) {
  const last = heap[--size];
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap[child + 1] < heap[child]) child++;
    if (heap[child] >= last) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return size;
}

/**
 * Tokens in `bytes[0, length)` after byte-pair merging: repeatedly merge the adjacent pair whose
 * concatenation has the lowest rank, the leftmost on a tie — what tiktoken and gpt-tokenizer do,
 * with the lowest pair taken from a heap instead of a scan. Parts are named by their first byte;
 * a heap entry is stale once the pair at its position no longer has its rank.
 */
function mergedLength(enc, length) {
  if (length <= 1) return length;
  if (length <= enc.maxTokenBytes && rankOf(enc, 0, length) >= 0) return 1;
  let size = 0;
  for (let i = 0; i < length; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    const rank = i + 1 < length ? rankOf(enc, i, i + 2) : -1;
    pairRank[i] = rank;
    if (rank >= 0) size = heapPush(size, rank * POSITION_SPAN + i);
  }
  let parts = length;
  while (size > 0) {
    const key = heap[0];
    size = heapPop(size);
    const rank = Math.floor(key / POSITION_SPAN);
    const at = key - rank * POSITION_SPAN;
    if (pairRank[at] !== rank) continue;
    const merged = next[at];
    const after = next[merged];
    next[at] = after;
    if (after < length) prev[after] = at;
    pairRank[merged] = -1;
    parts--;
    const right = after < length ? rankOf(enc, at, next[after]) : -1;
    pairRank[at] = right;
    if (right >= 0) size = heapPush(size, right * POSITION_SPAN + at);
    const before = prev[at];
    if (before >= 0) {
      const left = rankOf(enc, before, after);
      pairRank[before] = left;
      if (left >= 0) size = heapPush(size, left * POSITION_SPAN + before);
    }
  }
  return parts;
}

/**
 * Where a count stands: the position reached and, while a long pre-token is counted in pieces,
 * where that pre-token ends.
 * @typedef {{ at: number, preTokenEnd: number, tokens: number }} Cursor
 */

/**
 * Counts on from `cursor` until the text ends (true) or `deadline` (a performance.now() time)
 * passes (false), stopping at a pre-token or piece boundary. Special-token text such as
 * "<|endoftext|>" is counted as the plain text it is.
 * `record`, when given, receives the end of every pre-token or piece and the count up to it.
 * @param {"o200k" | "cl100k"} name @param {string} text @param {Cursor} cursor @param {number} deadline
 * @param {((end: number, tokens: number) => void) | null} [record]
 */
function countSlice(name, text, cursor, deadline, record = null) {
  const enc = encoding(name);
  const regex = enc.regex;
  let checked = cursor.at;
  for (;;) {
    if (cursor.at >= cursor.preTokenEnd) {
      regex.lastIndex = cursor.at;
      const match = regex.exec(text);
      if (!match) {
        cursor.at = cursor.preTokenEnd = text.length;
        return true;
      }
      cursor.at = match.index;
      cursor.preTokenEnd = match.index + Math.max(1, match[0].length);
    }
    const end = cursor.preTokenEnd;
    let to = Math.min(end, cursor.at + MAX_PIECE_CHARS);
    const last = text.charCodeAt(to - 1);
    if (to < end && last >= 0xd800 && last <= 0xdbff) to--; // keep a surrogate pair together
    cursor.tokens += mergedLength(enc, encodeUtf8(text, cursor.at, to, bytes)) + (to < end ? PIECE_CUT_ALLOWANCE : 0);
    cursor.at = to;
    if (record) record(to, cursor.tokens);
    // Reading the clock costs more than a short pre-token: look every 1,024 characters or so.
    if (cursor.at - checked >= 1024) {
      checked = cursor.at;
      if (performance.now() >= deadline) return cursor.at >= text.length;
    }
  }
}

/** @param {"o200k" | "cl100k"} name @param {string} text @returns {number} */
export function countBpeTokens(name, text) {
  const cursor = { at: 0, preTokenEnd: 0, tokens: 0 };
  countSlice(name, text, cursor, Infinity);
  return cursor.tokens;
}

/**
 * Where the pre-tokens (and the pieces of long ones) of `text` end, each with the count up to
 * there: a cut at one of these ends splits the count exactly, so a text can be fitted to a budget
 * with one pass instead of counting candidate cuts again and again.
 * @param {"o200k" | "cl100k"} name @param {string} text
 * @returns {{ ends: Int32Array, tokens: Int32Array, length: number, total: number }}
 */
export function bpeBoundaries(name, text) {
  const cuts = boundaryRecorder(text);
  countSlice(name, text, cuts.cursor, Infinity, cuts.record);
  return cuts.result();
}

/**
 * bpeBoundaries, yielding to the event loop between slices of about `sliceMs`.
 * @param {"o200k" | "cl100k"} name @param {string} text @param {number} [sliceMs]
 * @returns {Promise<{ ends: Int32Array, tokens: Int32Array, length: number, total: number }>}
 */
export async function bpeBoundariesYielding(name, text, sliceMs = DEFAULT_SLICE_MS) {
  const cuts = boundaryRecorder(text);
  while (!countSlice(name, text, cuts.cursor, performance.now() + sliceMs, cuts.record)) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return cuts.result();
}

/** @param {string} text */
function boundaryRecorder(text) {
  let ends = new Int32Array(Math.max(16, text.length >> 2));
  let tokens = new Int32Array(ends.length);
  let length = 0;
  /** @type {Cursor} */
  const cursor = { at: 0, preTokenEnd: 0, tokens: 0 };
  /** @param {number} end @param {number} count */
  const record = (end, count) => {
    if (length === ends.length) {
      const grownEnds = new Int32Array(ends.length * 2);
      const grownTokens = new Int32Array(ends.length * 2);
      grownEnds.set(ends);
      grownTokens.set(tokens);
      ends = grownEnds;
      tokens = grownTokens;
    }
    ends[length] = end;
    tokens[length++] = count;
  };
  return { cursor, record, result: () => ({ ends, tokens, length, total: cursor.tokens }) };
}

/**
 * The same count, yielding to the event loop between slices of about `sliceMs`: for texts whose
 * size the caller does not bound (a request of many long messages, a whole document).
 * @param {"o200k" | "cl100k"} name @param {string} text @param {number} [sliceMs]
 * @returns {Promise<number>}
 */
export async function countBpeTokensYielding(name, text, sliceMs = DEFAULT_SLICE_MS) {
  const cursor = { at: 0, preTokenEnd: 0, tokens: 0 };
  while (!countSlice(name, text, cursor, performance.now() + sliceMs)) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return cursor.tokens;
}

/** Builds the lookup tables now (100–300 ms) rather than in the first request that counts. */
export function warmBpe() {
  encoding("o200k");
  encoding("cl100k");
}
