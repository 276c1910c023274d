import zlib from "node:zlib";

/**
 * Writes small, valid PDFs with real text on each page (Helvetica, WinAnsi), so ingestion tests
 * and benchmarks run on files made here rather than downloaded.
 */

function escapePdfText(text: string): string {
  return text.replace(/[\\()]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, "?");
}

/** Wraps text into lines of at most `width` characters. */
function wrap(text: string, width = 90): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if ((line + " " + word).trim().length > width) {
        lines.push(line);
        line = word;
      } else line = `${line} ${word}`.trim();
    }
    lines.push(line);
  }
  return lines;
}

/** One page's content stream: its bytes as stored, and the filter that decodes them (if any). */
type ContentStream = { data: Buffer; filter?: "FlateDecode" };

/**
 * Assembles a PDF from page content streams. `encrypted`: adds a Standard security handler whose
 * user password is not empty, so a reader needs a password to open the file (the contents
 * themselves are not really encrypted).
 */
function buildPdf(contents: ContentStream[], options: { encrypted?: boolean } = {}): Buffer {
  const objects: string[] = [];
  const add = (body: string) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add(""); // filled below
  const pagesObj = add("");
  const font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  const pageIds: number[] = [];
  for (const { data, filter } of contents) {
    // latin1 keeps binary (compressed) stream bytes as they are.
    const content = add(`<< /Length ${data.length}${filter ? ` /Filter /${filter}` : ""} >>\nstream\n${data.toString("latin1")}\nendstream`);
    pageIds.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pageIds.length} >>`;

  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  const encrypt = options.encrypted
    ? ` /Encrypt << /Filter /Standard /V 1 /R 2 /O <${"ab".repeat(32)}> /U <${"cd".repeat(32)}> /P -4 >> /ID [<${"01".repeat(16)}> <${"01".repeat(16)}>]`
    : "";
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${encrypt} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** The operators that draw `text` on a page, at most 60 lines of it. */
function textOperators(text: string): string {
  const lines = wrap(text).slice(0, 60);
  return ["BT", "/F1 11 Tf", "14 TL", "50 760 Td", ...lines.map((l) => `(${escapePdfText(l)}) '`), "ET"].join("\n");
}

/** A PDF with one page per string, each drawing that text (Helvetica, up to 60 lines of 90 characters). */
export function makePdf(pages: string[], options: { encrypted?: boolean } = {}): Buffer {
  return buildPdf(pages.map((text) => ({ data: Buffer.from(textOperators(text), "latin1") })), options);
}

/**
 * A zlib stream of `bytes` zeros, built without deflating them all: one MiB of zeros deflated
 * with a full flush is a self-contained run of blocks, so copies of it may follow one another;
 * a final empty block and the Adler-32 of the zeros (a = 1, b = count mod 65521) end it.
 */
function zerosDeflated(bytes: number): Buffer {
  const slice = 1 << 20;
  const whole = zlib.deflateRawSync(Buffer.alloc(slice), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const rest = bytes % slice ? zlib.deflateRawSync(Buffer.alloc(bytes % slice), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH }) : Buffer.alloc(0);
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((bytes % 65521) * 65536 + 1) >>> 0);
  const end = zlib.deflateRawSync(Buffer.alloc(0));
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array.from({ length: Math.floor(bytes / slice) }, () => whole), rest, end, adler]);
}

/**
 * A decompression bomb: one page of text, then a page whose Flate-compressed content stream
 * inflates to `inflatedBytes` of zeros (whitespace to a PDF lexer). 1 GiB makes a PDF of about 1 MB.
 */
export function makeFlateBombPdf(inflatedBytes: number): Buffer {
  const intro = zlib.deflateSync(Buffer.from(textOperators("The first page has a little real text.")));
  return buildPdf([{ data: intro, filter: "FlateDecode" }, { data: zerosDeflated(inflatedBytes), filter: "FlateDecode" }]);
}

/**
 * A PDF whose pages each show `charsPerPage` characters of text from a small (compressed) content
 * stream: within any inflate limit, but far more text than a real page holds.
 */
export function makeTextFloodPdf(pageCount: number, charsPerPage: number): Buffer {
  const line = `(${"flood ".repeat(16)}) '`;
  const ops = Buffer.from(["BT", "/F1 1 Tf", `${(700 / Math.ceil(charsPerPage / 96)).toFixed(4)} TL`, "10 780 Td", ...Array.from({ length: Math.ceil(charsPerPage / 96) }, () => line), "ET"].join("\n"), "latin1");
  const data = zlib.deflateSync(ops);
  return buildPdf(Array.from({ length: pageCount }, () => ({ data, filter: "FlateDecode" as const })));
}

/** A PDF whose pages draw nothing but a rectangle: what a scanned document looks like to a text extractor. */
export function makeImageOnlyPdf(pageCount: number): Buffer {
  const pdf = makePdf(Array.from({ length: pageCount }, () => ""));
  return pdf;
}
