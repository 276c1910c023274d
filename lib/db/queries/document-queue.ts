import { and, asc, eq, gte, inArray, lt, notInArray, or, sql, type SQL } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { getDb, rowsOf, type Db } from "../client";
import { documents, type Document, type StoredProblem } from "../schema";

/**
 * The ingestion queue: the documents table is the queue. Pending rows are claimed with SKIP
 * LOCKED by any instance; every claim counts as an attempt, so a document whose reading killed
 * its process fails for good after the allowed number of attempts instead of killing every
 * restart.
 */

/** The stored problem of a document that was claimed `attempts` times without an outcome. */
export function attemptsExceeded(attempts: number): StoredProblem {
  return {
    code: "ingestion_attempts_exceeded",
    title: "Document could not be indexed",
    status: 422,
    detail: `Reading this document stopped the document processor ${attempts} times, so it is not retried. Upload a simpler copy (e.g. printed again to PDF).`,
  };
}

async function claimWhere(workerId: string, pick: SQL): Promise<Document | undefined> {
  const db = await getDb();
  const result = await db.execute(sql`
    update ${documents} set status = 'processing', worker_id = ${workerId}, progress = 0, attempts = attempts + 1, updated_at = now()
    where id = (${pick})
    returning id`);
  const id = rowsOf<{ id: string }>(result)[0]?.id;
  if (!id) return undefined;
  const [row] = await db.select().from(documents).where(eq(documents.id, id));
  return row;
}

/**
 * Claims the next document fairly: the oldest pending one of the user with the fewest documents
 * in flight (on every instance), so one user's long queue cannot hold up another user's upload.
 */
export async function claimNextDocument({ workerId }: { workerId: string }): Promise<Document | undefined> {
  return claimWhere(
    workerId,
    sql`
      select d.id from ${documents} d
      left join (select user_id, count(*) as n from ${documents} where status = 'processing' group by user_id) busy on busy.user_id = d.user_id
      where d.status = 'pending'
      order by coalesce(busy.n, 0), d.created_at
      limit 1
      for update of d skip locked`,
  );
}

/** Claims one pending document for `workerId`, unless another worker got there first (the admin CLI). */
export async function claimDocument({ id, workerId }: { id: string; workerId: string }): Promise<Document | undefined> {
  return claimWhere(workerId, sql`select id from ${documents} where id = ${id} and status = 'pending' for update skip locked`);
}

export async function setDocumentProgress({ id, progress }: { id: string; progress: number }): Promise<void> {
  const db = await getDb();
  // Only while processing: a late progress write must not undo `ready`'s progress of 1.
  await db
    .update(documents)
    .set({ progress, updatedAt: new Date() })
    .where(and(eq(documents.id, id), eq(documents.status, "processing")));
}

export async function failDocument({ id, error }: { id: string; error: StoredProblem }): Promise<void> {
  const db = await getDb();
  await db.update(documents).set({ status: "failed", error, workerId: null, updatedAt: new Date() }).where(eq(documents.id, id));
}

/** Back to the queue after a crash of its extraction process; its attempt stays counted. */
export async function retryDocument({ id }: { id: string }): Promise<void> {
  const db = await getDb();
  await db
    .update(documents)
    .set({ status: "pending", workerId: null, progress: 0, updatedAt: new Date() })
    .where(and(eq(documents.id, id), eq(documents.status, "processing")));
}

/**
 * Documents this instance was processing when it stopped, and anyone's that have not moved for
 * `staleMs` (an instance that never came back), go back to the queue — or fail for good once
 * they have used `maxAttempts` claims. `busy` are the ids this instance is indexing right now:
 * its own work in progress, never touched.
 */
export async function requeueDocuments(
  db: Db,
  { workerId, maxAttempts, staleMs = 10 * 60 * 1000, busy = [] }: { workerId: string; maxAttempts: number; staleMs?: number; busy?: string[] },
): Promise<{ requeued: string[]; failed: string[] }> {
  const left = and(
    eq(documents.status, "processing"),
    or(eq(documents.workerId, workerId), lt(documents.updatedAt, new Date(Date.now() - staleMs))),
    busy.length > 0 ? notInArray(documents.id, busy) : undefined,
  );
  const failed = await db
    .update(documents)
    .set({ status: "failed", error: attemptsExceeded(maxAttempts), workerId: null, updatedAt: new Date() })
    .where(and(left, gte(documents.attempts, maxAttempts)))
    .returning({ id: documents.id });
  const requeued = await db
    .update(documents)
    .set({ status: "pending", workerId: null, progress: 0, updatedAt: new Date() })
    .where(left)
    .returning({ id: documents.id });
  return { requeued: requeued.map((row) => row.id), failed: failed.map((row) => row.id) };
}

/**
 * Shutdown past the grace period: this instance's unfinished documents go back to the queue for
 * another instance, and the attempt is given back (the document did not stop the process).
 */
export async function releaseDocuments(db: Db, { workerId }: { workerId: string }): Promise<number> {
  const rows = await db
    .update(documents)
    .set({ status: "pending", workerId: null, progress: 0, attempts: sql`greatest(${documents.attempts} - 1, 0)`, updatedAt: new Date() })
    .where(and(eq(documents.status, "processing"), eq(documents.workerId, workerId)))
    .returning({ id: documents.id });
  return rows.length;
}

/** Which documents a reindex covers: one, one user's, or every one. */
export type ReindexScope = { documentId: string } | { userId: string } | { all: true };

/**
 * Admin CLI: puts the scope's ready and failed documents back in the queue (their old chunks stay
 * until the new ones replace them), with their attempts reset. Pending and processing ones are
 * already on their way.
 */
export async function requeueForReindex(scope: ReindexScope): Promise<{ queued: string[]; skipped: Array<{ id: string; status: string }> }> {
  const db = await getDb();
  const inScope =
    "documentId" in scope
      ? eq(documents.id, scope.documentId)
      : "userId" in scope
        ? eq(documents.userId, scope.userId)
        : undefined;
  if ("documentId" in scope) {
    if (!isUuid(scope.documentId)) throw new AppError("document_not_found", `no such document: ${scope.documentId}`);
    const [exists] = await db.select({ id: documents.id }).from(documents).where(eq(documents.id, scope.documentId));
    if (!exists) throw new AppError("document_not_found", `no such document: ${scope.documentId}`);
  }
  // Read before the update, which turns the queued ones pending too.
  const skipped = await db
    .select({ id: documents.id, status: documents.status })
    .from(documents)
    .where(and(inScope, inArray(documents.status, ["pending", "processing"])));
  const queued = await db
    .update(documents)
    .set({ status: "pending", progress: 0, error: null, workerId: null, attempts: 0, updatedAt: new Date() })
    .where(and(inScope, inArray(documents.status, ["ready", "failed"])))
    .returning({ id: documents.id, createdAt: documents.createdAt });
  return { queued: queued.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((q) => q.id), skipped };
}

/** Admin CLI: where documents stand after a reindex. */
export async function getDocumentStates({ ids }: { ids: string[] }) {
  if (ids.length === 0) return [];
  const db = await getDb();
  return db
    .select({ id: documents.id, userId: documents.userId, filename: documents.filename, status: documents.status, pages: documents.pages, chunkCount: documents.chunkCount, error: documents.error })
    .from(documents)
    .where(inArray(documents.id, ids))
    .orderBy(asc(documents.createdAt));
}

/** Whether any document waits in the queue (the partial index makes this cheap). */
export async function hasPendingDocuments(): Promise<boolean> {
  const db = await getDb();
  const [row] = await db.select({ id: documents.id }).from(documents).where(eq(documents.status, "pending")).limit(1);
  return Boolean(row);
}
