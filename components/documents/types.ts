import type { ConversationResource, DocumentResource } from "@/lib/api/resources";

/** The documents API as the browser reads it: the server's own wire types (type-only imports). */
export type { DocumentResource };
export type DocumentStatus = DocumentResource["status"];
export type ConversationMode = ConversationResource["mode"];

/** What the browser reads of a problem+json body (any of it may be missing on a network error). */
import type { Problem } from "@/components/api-client";

export type { Problem };

/** What the file picker offers; the server still decides (415 for anything else). */
export const ACCEPTED_FILE_TYPES = ".pdf,.txt,.md,application/pdf,text/plain,text/markdown";

export function isIndexing(document: Pick<DocumentResource, "status">): boolean {
  return document.status === "pending" || document.status === "processing";
}

export const contentUrl = (documentId: string, page?: number) =>
  `/api/v1/documents/${documentId}/content${page ? `#page=${page}` : ""}`;

export function problemText(problem: Problem | null | undefined, fallback = "the file could not be read."): string {
  return problem?.detail || problem?.title || fallback;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The status line a person reads under a document's name. */
export function documentStatusText(document: DocumentResource): string {
  switch (document.status) {
    case "pending":
      return "Waiting to index…";
    case "processing":
      return `Indexing ${Math.round(document.progress * 100)}%`;
    case "ready":
      return document.pages != null ? `Ready — ${plural(document.pages, "page")}` : `Ready — ${plural(document.chunk_count, "passage")}`;
    case "failed":
      return `Failed: ${problemText(document.error)}`;
  }
}

/** 0–100 for the progress bar. */
export function documentPercent(document: DocumentResource): number {
  // A failed row shows a full red bar; its text says why.
  if (document.status === "ready" || document.status === "failed") return 100;
  if (document.status === "processing") return Math.round(document.progress * 100);
  return 0;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}
