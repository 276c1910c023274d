import path from "node:path";
import { AppError } from "@/lib/api/errors";
import type { DocumentMimeType } from "@/lib/db/schema";
import { inspectPdf } from "./ingest";

/**
 * What an upload is, decided from its bytes first and its name and declared type second: a file
 * that starts like a PDF is a PDF whatever it is called; a `.pdf` that does not is refused.
 */

const TEXT_EXTENSIONS: Record<string, DocumentMimeType> = {
  ".txt": "text/plain",
  ".text": "text/plain",
  ".md": "text/markdown",
  ".markdown": "text/markdown",
};
const TEXT_TYPES: Record<string, DocumentMimeType> = {
  "text/plain": "text/plain",
  "text/markdown": "text/markdown",
  "text/x-markdown": "text/markdown",
};

export type AcceptedUpload = { filename: string; mimeType: DocumentMimeType; bytes: Buffer; pages: number | null };

export function cleanFilename(name: string): string {
  const base = path.basename(name.replaceAll("\\", "/"));
  // Control characters and quotes would break Content-Disposition and logs.
  const cleaned = base.replace(/[\u0000-\u001f\u007f"]/g, "").trim().slice(0, 200);
  return cleaned || "upload";
}

function isPdfBytes(bytes: Buffer): boolean {
  // The header may follow a little junk; readers accept it within the first KiB.
  return bytes.subarray(0, 1024).includes("%PDF-");
}

function classify(filename: string, declared: string, bytes: Buffer): DocumentMimeType {
  const extension = path.extname(filename).toLowerCase();
  const type = declared.split(";")[0]?.trim().toLowerCase() ?? "";
  if (isPdfBytes(bytes)) return "application/pdf";
  if (extension === ".pdf" || type === "application/pdf") {
    throw new AppError("corrupt_document", "The file is named or typed as a PDF but is not one (no %PDF header).");
  }
  const textType = TEXT_EXTENSIONS[extension] ?? TEXT_TYPES[type];
  if (textType) return textType;
  throw new AppError("unsupported_file_type", "Upload a PDF, a plain-text (.txt) or a Markdown (.md) file.", {
    extensions: { supported: ["application/pdf", "text/plain", "text/markdown"] },
  });
}

function checkText(bytes: Buffer, maxPages: number): void {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("invalid_encoding", "Text files must be UTF-8 encoded.");
  }
  if (text.includes("\u0000")) throw new AppError("invalid_encoding", "The file contains NUL bytes: it looks binary, not text.");
  if (text.trim() === "") throw new AppError("empty_file", "The file contains only whitespace.");
  // Form feeds separate the pages of a plain-text export; the page limit holds for them too.
  const pages = text.split("\f").length;
  if (pages > maxPages) throw new AppError("too_many_pages", `The file has ${pages} pages (form feeds); the limit is ${maxPages}.`, { extensions: { max_pages: maxPages } });
}

/**
 * Validates the `file` field of an upload: type (415), emptiness (422), and for PDFs a quick look
 * in a memory-capped child process at encryption, readability, page count and what its
 * compressed streams inflate to (422), so the caller hears at once about problems that need no
 * full parse. A PDF too slow to inspect is accepted and the background ingestion decides.
 */
export async function acceptUpload(file: File, limits: { maxBytes: number; maxPages: number }): Promise<AcceptedUpload> {
  const filename = cleanFilename(file.name);
  if (file.size > limits.maxBytes) {
    throw new AppError("file_too_large", `Uploads are limited to ${limits.maxBytes} bytes.`, { extensions: { max_bytes: limits.maxBytes } });
  }
  if (file.size === 0) throw new AppError("empty_file", "The uploaded file is empty (0 bytes).");
  const bytes = Buffer.from(await file.arrayBuffer());
  const mimeType = classify(filename, file.type, bytes);
  if (mimeType !== "application/pdf") {
    checkText(bytes, limits.maxPages);
    return { filename, mimeType, bytes, pages: null };
  }
  const inspected = await inspectPdf({ bytes: new Uint8Array(bytes), maxPages: limits.maxPages });
  if (inspected.ok) return { filename, mimeType, bytes, pages: inspected.pages };
  if (inspected.code === "too_many_pages") {
    throw new AppError("too_many_pages", inspected.message, { extensions: { max_pages: limits.maxPages } });
  }
  if (inspected.code === "encrypted_document" || inspected.code === "corrupt_document" || inspected.code === "document_too_complex") {
    throw new AppError(inspected.code, inspected.message);
  }
  return { filename, mimeType, bytes, pages: null };
}
