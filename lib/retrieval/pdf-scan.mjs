// A pass over a PDF's raw bytes before pdf.js sees them: every Flate-compressed stream a text
// extraction would decode is inflated with zlib under one shared output budget, so a
// decompression bomb (1 MB that inflates to 1 GB) is refused in about a second with a clear
// code, instead of filling memory inside pdf.js. The extraction process's memory limit remains
// the backstop for anything this pass does not model (other filters, streams it cannot find).
import zlib from "node:zlib";

const STREAM = Buffer.from("stream");
const END_STREAM = Buffer.from("endstream");
// How far back from `stream` the stream's dictionary may start.
const DICT_WINDOW = 4096;

export class TooComplexError extends Error {}

/** @param {Buffer} pdf @param {number} at the index just after the `stream` keyword; the data start, or -1 if this is no stream keyword */
function dataStart(pdf, at) {
  if (pdf[at] === 0x0d && pdf[at + 1] === 0x0a) return at + 2;
  if (pdf[at] === 0x0a || pdf[at] === 0x0d) return at + 1;
  return -1;
}

/** The dictionary text before a `stream` keyword, from the object header (`n 0 obj`) on. @param {Buffer} pdf @param {number} keyword */
function dictionaryBefore(pdf, keyword) {
  const window = pdf.toString("latin1", Math.max(0, keyword - DICT_WINDOW), keyword);
  const header = window.lastIndexOf("obj");
  return header >= 0 ? window.slice(header + 3) : window;
}

/** The data's end: a direct /Length that lands on `endstream` (what pdf.js trusts), else the next `endstream`. @param {Buffer} pdf @param {string} dict @param {number} start */
function dataEnd(pdf, dict, start) {
  const length = /\/Length\s+(\d+)\b(?!\s+\d+\s+R)/.exec(dict);
  if (length) {
    const end = start + Number(length[1]);
    let after = end;
    while (after < pdf.length && (pdf[after] === 0x0a || pdf[after] === 0x0d || pdf[after] === 0x20)) after++;
    if (end <= pdf.length && pdf.subarray(after, after + END_STREAM.length).equals(END_STREAM)) return end;
  }
  const found = pdf.indexOf(END_STREAM, start);
  return found < 0 ? pdf.length : found;
}

/** The stream's filters, in decoding order: `/Filter /FlateDecode` or `/Filter [/FlateDecode /ASCII85Decode]`. @param {string} dict */
function filtersOf(dict) {
  const match = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict);
  if (!match) return [];
  return [...match[1].matchAll(/\/([A-Za-z0-9]+)/g)].map((m) => m[1]);
}

/**
 * Inflates every Flate stream of `pdf` that a text extraction decodes (not images: pdf.js never
 * decodes an image to read text), chained Flate filters included, counting all output against
 * `maxInflatedBytes`. Throws TooComplexError past the budget; returns the bytes inflated.
 * Streams zlib cannot read are skipped: pdf.js reports those as corrupt itself.
 * @param {Buffer} pdf @param {number} maxInflatedBytes
 */
export function checkInflatedSize(pdf, maxInflatedBytes) {
  let total = 0;
  for (let keyword = pdf.indexOf(STREAM); keyword >= 0; keyword = pdf.indexOf(STREAM, keyword + STREAM.length)) {
    // `endstream` contains `stream`; only a keyword followed by an end of line opens data.
    if (keyword >= 3 && pdf.toString("latin1", keyword - 3, keyword) === "end") continue;
    const start = dataStart(pdf, keyword + STREAM.length);
    if (start < 0) continue;
    const dict = dictionaryBefore(pdf, keyword);
    const end = dataEnd(pdf, dict, start);
    const filters = filtersOf(dict);
    if (/\/Subtype\s*\/Image\b/.test(dict) || filters[0] !== "FlateDecode") {
      keyword = end;
      continue;
    }
    /** @type {Buffer} */
    let data = pdf.subarray(start, end);
    for (const filter of filters) {
      if (filter !== "FlateDecode") break;
      try {
        // Sync flush: a truncated stream yields what it has, as pdf.js would read it.
        data = zlib.inflateSync(data, { maxOutputLength: Math.max(1, maxInflatedBytes - total), finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch (error) {
        if (error && typeof error === "object" && "code" in error && error.code === "ERR_BUFFER_TOO_LARGE") {
          throw new TooComplexError(`The PDF's compressed streams expand to more than ${maxInflatedBytes} bytes.`);
        }
        break;
      }
      total += data.length;
      if (total > maxInflatedBytes) throw new TooComplexError(`The PDF's compressed streams expand to more than ${maxInflatedBytes} bytes.`);
    }
    keyword = end;
  }
  return total;
}
