import { createHash } from "node:crypto";
import { and, asc, count, eq, inArray, notInArray, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { decodeCursor, encodeCursor, isTimestampIdCursor, isUuid } from "@/lib/api/pagination";
import type { ExtractedChunk } from "@/lib/retrieval/ingest";
import { descNullsLast, getDb, type Db } from "../client";
import { conversationDocuments, conversations, documentBlobs, documentChunks, documents, documentTerms, users, type Document, type DocumentMimeType } from "../schema";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

const notFound = () => new AppError("document_not_found", "No document with this id.");

/** Per-user storage limits; 0 = no limit. */
export type StorageQuota = { maxBytes: number; maxDocuments: number };

/** What a user's documents take: the uploaded files' bytes and how many there are. */
export async function getStorageUsage({ userId }: { userId: string }, db?: Db | Tx): Promise<{ bytes: number; documents: number }> {
  const [row] = await (db ?? (await getDb()))
    .select({ bytes: sql<string>`coalesce(sum(${documents.sizeBytes}), 0)`, documents: count() })
    .from(documents)
    .where(eq(documents.userId, userId));
  return { bytes: Number(row?.bytes ?? 0), documents: row?.documents ?? 0 };
}

function quotaExceeded(kind: "storage_bytes" | "documents", limit: number, used: number, detail: string): AppError {
  return new AppError("quota_exceeded", detail, { extensions: { quota: kind, limit, used } });
}

/**
 * Stores an upload; the same bytes uploaded again by the same user return the first document and
 * count once. A new document must fit the user's `quota`: the check and the insert run under a
 * lock on the user's row, so parallel uploads cannot together overshoot it.
 */
export async function createDocument(input: {
  userId: string;
  filename: string;
  mimeType: DocumentMimeType;
  bytes: Buffer;
  pages?: number | null;
  quota?: StorageQuota;
}): Promise<{ document: Document; deduplicated: boolean }> {
  const db = await getDb();
  const sha256 = createHash("sha256").update(input.bytes).digest("hex");
  return db.transaction(async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, input.userId)).for("update");
    const [existing] = await tx
      .select()
      .from(documents)
      .where(and(eq(documents.userId, input.userId), eq(documents.sha256, sha256)));
    if (existing) {
      if (existing.status !== "failed") return { document: existing, deduplicated: true };
      // Uploading a failed document again is how a user retries it (limits may have changed).
      const [retried] = await tx
        .update(documents)
        .set({ status: "pending", progress: 0, error: null, attempts: 0, updatedAt: new Date() })
        .where(eq(documents.id, existing.id))
        .returning();
      return { document: retried ?? existing, deduplicated: true };
    }
    if (input.quota) checkQuota(input.quota, await getStorageUsage({ userId: input.userId }, tx), input.bytes.length);
    const [inserted] = await tx
      .insert(documents)
      .values({
        userId: input.userId,
        filename: input.filename,
        mimeType: input.mimeType,
        sizeBytes: input.bytes.length,
        sha256,
        pages: input.pages ?? null,
      })
      .returning();
    if (!inserted) throw new Error("document insert returned nothing");
    await tx.insert(documentBlobs).values({ documentId: inserted.id, bytes: input.bytes });
    return { document: inserted, deduplicated: false };
  });
}

function checkQuota(quota: StorageQuota, used: { bytes: number; documents: number }, size: number): void {
  if (quota.maxDocuments > 0 && used.documents + 1 > quota.maxDocuments) {
    throw quotaExceeded("documents", quota.maxDocuments, used.documents, `You have ${used.documents} documents, the most allowed. Delete some to upload more.`);
  }
  if (quota.maxBytes > 0 && used.bytes + size > quota.maxBytes) {
    throw quotaExceeded(
      "storage_bytes",
      quota.maxBytes,
      used.bytes,
      `Your documents use ${used.bytes} of your ${quota.maxBytes} bytes; this file needs ${size}. Delete documents to free space.`,
    );
  }
}

export async function getDocumentOrThrow({ id, userId }: { id: string; userId: string }): Promise<Document> {
  if (!isUuid(id)) throw notFound();
  const db = await getDb();
  const [row] = await db.select().from(documents).where(and(eq(documents.id, id), eq(documents.userId, userId)));
  if (!row) throw notFound();
  return row;
}

export async function getDocumentBytes({ id, userId }: { id: string; userId: string }): Promise<{ document: Document; bytes: Buffer }> {
  const document = await getDocumentOrThrow({ id, userId });
  const bytes = await readDocumentBlob(await getDb(), id);
  if (!bytes) throw notFound();
  return { document, bytes };
}

export async function listDocuments(input: { userId: string; limit: number; cursor?: string }): Promise<{ rows: Document[]; nextCursor: string | null }> {
  const db = await getDb();
  const scope = { userId: input.userId, list: "documents" };
  const cursor = input.cursor ? await decodeCursor(input.cursor, scope, isTimestampIdCursor) : undefined;
  const rows = await db
    .select({ row: documents, createdText: sql<string>`${documents.createdAt}::text` })
    .from(documents)
    .where(
      and(
        eq(documents.userId, input.userId),
        cursor ? sql`(${documents.createdAt}, ${documents.id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)` : undefined,
      ),
    )
    .orderBy(descNullsLast(documents.createdAt), descNullsLast(documents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return { rows: page.map((r) => r.row), nextCursor: rows.length > input.limit && last ? await encodeCursor({ at: last.createdText, id: last.row.id }, scope) : null };
}

/** Deletes a document: its bytes, chunks and conversation links go with it (cascades). */
export async function deleteDocument({ id, userId }: { id: string; userId: string }): Promise<void> {
  if (!isUuid(id)) throw notFound();
  const db = await getDb();
  const rows = await db.delete(documents).where(and(eq(documents.id, id), eq(documents.userId, userId))).returning({ id: documents.id });
  if (rows.length === 0) throw notFound();
}

/**
 * Replaces the set of documents attached to a conversation, inside the caller's transaction (the
 * caller has loaded the conversation owner-scoped); every id must be one of the caller's documents.
 */
export async function replaceConversationDocuments(
  tx: Tx,
  input: { conversationId: string; userId: string; documentIds: string[] },
): Promise<void> {
  const ids = [...new Set(input.documentIds)];
  if (ids.length > 0) {
    const owned = await tx
      .select({ id: documents.id })
      .from(documents)
      .where(and(eq(documents.userId, input.userId), inArray(documents.id, ids)));
    const missing = ids.find((id) => !owned.some((o) => o.id === id));
    if (missing) throw new AppError("document_not_found", `No document with id ${missing}.`);
  }
  await tx
    .delete(conversationDocuments)
    .where(
      and(
        eq(conversationDocuments.conversationId, input.conversationId),
        ids.length > 0 ? notInArray(conversationDocuments.documentId, ids) : undefined,
      ),
    );
  if (ids.length > 0) {
    await tx
      .insert(conversationDocuments)
      .values(ids.map((documentId) => ({ conversationId: input.conversationId, documentId })))
      .onConflictDoNothing();
  }
}

/** Attaches one of the caller's documents to one of their conversations and makes it grounded. */
export async function attachDocument(input: { conversationId: string; userId: string; documentId: string }): Promise<void> {
  const db = await getDb();
  await db.transaction(async (tx) => {
    const [conversation] = await tx
      .update(conversations)
      .set({ mode: "grounded", updatedAt: new Date() })
      .where(and(eq(conversations.id, input.conversationId), eq(conversations.userId, input.userId)))
      .returning({ id: conversations.id });
    if (!conversation) throw new AppError("conversation_not_found", "No conversation with this id.");
    await tx.insert(conversationDocuments).values({ conversationId: input.conversationId, documentId: input.documentId }).onConflictDoNothing();
  });
}

/** The ids of the documents attached to each conversation, oldest attachment first. */
export async function listConversationDocumentIds({ conversationIds }: { conversationIds: string[] }): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(conversationIds.map((id) => [id, []]));
  if (conversationIds.length === 0) return result;
  const db = await getDb();
  const rows = await db
    .select({ conversationId: conversationDocuments.conversationId, documentId: conversationDocuments.documentId })
    .from(conversationDocuments)
    .where(inArray(conversationDocuments.conversationId, conversationIds))
    .orderBy(asc(conversationDocuments.createdAt), asc(conversationDocuments.documentId));
  for (const row of rows) result.get(row.conversationId)?.push(row.documentId);
  return result;
}

/** Documents attached to conversations, keyed by conversation id. */
export async function listAttachedDocuments({ conversationIds }: { conversationIds: string[] }): Promise<Map<string, Document[]>> {
  const result = new Map<string, Document[]>();
  if (conversationIds.length === 0) return result;
  const db = await getDb();
  const rows = await db
    .select({ conversationId: conversationDocuments.conversationId, document: documents })
    .from(conversationDocuments)
    .innerJoin(documents, eq(documents.id, conversationDocuments.documentId))
    .where(inArray(conversationDocuments.conversationId, conversationIds))
    .orderBy(asc(conversationDocuments.createdAt));
  for (const row of rows) result.set(row.conversationId, [...(result.get(row.conversationId) ?? []), row.document]);
  return result;
}

/** Chunks of the given documents that cover `page` (a user asking about "page 12"). */
export async function listChunksOnPage(input: { documentIds: string[]; page: number; limit: number }) {
  if (input.documentIds.length === 0) return [];
  const db = await getDb();
  return db
    .select({
      chunkId: documentChunks.id,
      documentId: documentChunks.documentId,
      filename: documents.filename,
      ord: documentChunks.ord,
      content: documentChunks.content,
      pageStart: documentChunks.pageStart,
      pageEnd: documentChunks.pageEnd,
      charStart: documentChunks.charStart,
      charEnd: documentChunks.charEnd,
    })
    .from(documentChunks)
    .innerJoin(documents, eq(documents.id, documentChunks.documentId))
    .where(
      and(
        inArray(documentChunks.documentId, input.documentIds),
        eq(documents.status, "ready"),
        sql`${documentChunks.pageStart} <= ${input.page} and ${documentChunks.pageEnd} >= ${input.page}`,
      ),
    )
    .orderBy(asc(documentChunks.documentId), asc(documentChunks.ord))
    .limit(input.limit);
}

export async function readDocumentBlob(db: Db, id: string): Promise<Buffer | undefined> {
  const [blob] = await db.select().from(documentBlobs).where(eq(documentBlobs.documentId, id));
  return blob?.bytes;
}

const INSERT_BATCH = 200;

/** Stores the chunks, computes their lengths in analysed terms, and marks the document ready. */
export async function completeDocument(input: {
  id: string;
  pages: number;
  pageOffsets?: number[];
  chunks: ExtractedChunk[];
  onProgress?: (value: number) => void;
}): Promise<void> {
  const db = await getDb();
  await db.transaction(async (tx) => {
    await tx.delete(documentChunks).where(eq(documentChunks.documentId, input.id));
    for (let i = 0; i < input.chunks.length; i += INSERT_BATCH) {
      const batch = input.chunks.slice(i, i + INSERT_BATCH).map((c, j) => ({ ...c, documentId: input.id, ord: i + j, termCount: 0 }));
      await tx.insert(documentChunks).values(batch);
      input.onProgress?.(0.6 + 0.35 * Math.min(1, (i + INSERT_BATCH) / input.chunks.length));
    }
    // BM25 needs each chunk's length in terms: the number of positions in its tsvector.
    await tx.execute(sql`
      update ${documentChunks} c set term_count = coalesce((select sum(coalesce(array_length(u.positions, 1), 1)) from unnest(c.tsv) u), 0)
      where c.document_id = ${input.id}`);
    await tx.delete(documentTerms).where(eq(documentTerms.documentId, input.id));
    await tx.execute(sql`
      insert into ${documentTerms} (document_id, term, df)
      select ${input.id}::uuid, u.lexeme, count(*)::int from ${documentChunks} c, unnest(c.tsv) u
      where c.document_id = ${input.id} group by u.lexeme`);
    await tx.execute(sql`
      update ${documents} d set status = 'ready', progress = 1, pages = ${input.pages}, worker_id = null, error = null, updated_at = now(),
        page_offsets = ${input.pageOffsets ? sql`array[${sql.join(input.pageOffsets.map((o) => sql`${o}::int`), sql`, `)}]::int[]` : null},
        chunk_count = (select count(*) from ${documentChunks} where document_id = d.id),
        term_count = (select coalesce(sum(term_count), 0) from ${documentChunks} where document_id = d.id)
      where d.id = ${input.id}`);
  });
}

