import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { bytea, timestamps, tsvector } from "./columns";
import { conversations, type StoredProblem } from "./conversations";

export const documentStatuses = ["pending", "processing", "ready", "failed"] as const;
export const documentMimeTypes = ["application/pdf", "text/plain", "text/markdown"] as const;
export type DocumentMimeType = (typeof documentMimeTypes)[number];
export type DocumentStatus = (typeof documentStatuses)[number];

export const documents = pgTable(
  "documents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    filename: text("filename").notNull(),
    mimeType: text("mime_type", { enum: documentMimeTypes }).notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** SHA-256 of the bytes: one user's identical uploads are one document. */
    sha256: text("sha256").notNull(),
    pages: integer("pages"),
    /** Where each page starts in the extracted text (index 0 = page 1): exact pages for citations. */
    pageOffsets: integer("page_offsets").array(),
    chunkCount: integer("chunk_count").notNull().default(0),
    /** Sum of chunk lengths in terms: with chunk_count, gives BM25's average length. */
    termCount: integer("term_count").notNull().default(0),
    status: text("status", { enum: documentStatuses }).notNull().default("pending"),
    progress: real("progress").notNull().default(0),
    error: jsonb("error").$type<StoredProblem>(),
    workerId: text("worker_id"),
    /** Times the queue has claimed it: counted at the claim, so a process that died reading it counts too. */
    attempts: integer("attempts").notNull().default(0),
    ...timestamps,
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("documents_user_sha_key").on(t.userId, t.sha256),
    index("documents_user_created_idx").on(t.userId, t.createdAt.desc(), t.id.desc()),
    index("documents_pending_idx").on(t.createdAt).where(sql`${t.status} in ('pending', 'processing')`),
    check("documents_status_check", sql`${t.status} in ('pending', 'processing', 'ready', 'failed')`),
  ],
);

/** The original bytes, apart from the metadata row so lists never read them. */
export const documentBlobs = pgTable("document_blobs", {
  documentId: uuid("document_id")
    .primaryKey()
    .references(() => documents.id, { onDelete: "cascade" }),
  bytes: bytea("bytes").notNull(),
});

export const documentChunks = pgTable(
  "document_chunks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    documentId: uuid("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    ord: integer("ord").notNull(),
    content: text("content").notNull(),
    pageStart: integer("page_start").notNull(),
    pageEnd: integer("page_end").notNull(),
    charStart: integer("char_start").notNull(),
    charEnd: integer("char_end").notNull(),
    tokenCount: integer("token_count").notNull(),
    /** Length in analysed terms (BM25's document length). */
    termCount: integer("term_count").notNull(),
    // English analyser (Snowball stemming + stop words), the lexical index.
    tsv: tsvector("tsv")
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english', content)`),
  },
  (t) => [
    uniqueIndex("document_chunks_document_ord_key").on(t.documentId, t.ord),
    index("document_chunks_tsv_idx").using("gin", t.tsv),
  ],
);

/**
 * Per-document term statistics: in how many of the document's chunks each analysed term occurs.
 * Summed over a conversation's documents they give BM25 its document frequencies exactly,
 * without scanning chunks at query time.
 */
export const documentTerms = pgTable(
  "document_terms",
  {
    documentId: uuid("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    term: text("term").notNull(),
    df: integer("df").notNull(),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.term] })],
);

export const conversationDocuments = pgTable(
  "conversation_documents",
  {
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    documentId: uuid("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.documentId] }), index("conversation_documents_document_idx").on(t.documentId)],
);
