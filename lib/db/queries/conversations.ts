import { and, eq, exists, gt, isNull, lt, lte, or, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { decodeCursor, encodeCursor, isTimestampIdCursor, isUuid } from "@/lib/api/pagination";
import { recordUsage, type UsageEntry } from "@/lib/usage/ledger";
import { descNullsLast, getDb, type Executor } from "../client";
import { conversations, messages, type Conversation, type ConversationMode } from "../schema";
import { replaceConversationDocuments } from "./documents";

export type ConversationPatch = Partial<{
  title: string;
  pinned: boolean;
  archived: boolean;
  mode: ConversationMode;
  model: string;
  systemPrompt: string | null;
  temperature: number | null;
}>;

/** Creates a conversation with its attached documents (all the caller's, or 404) in one transaction. */
export async function createConversation(input: {
  userId: string;
  title: string;
  mode: ConversationMode;
  model: string;
  systemPrompt: string | null;
  temperature?: number | null;
  documentIds?: string[];
}): Promise<Conversation> {
  const db = await getDb();
  const { documentIds, ...values } = input;
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(conversations).values(values).returning();
    if (!row) throw new Error("insert returned no row");
    if (documentIds && documentIds.length > 0) {
      await replaceConversationDocuments(tx, { conversationId: row.id, userId: input.userId, documentIds });
    }
    return row;
  });
}

/** The caller's conversation, or 404 — also when it exists but belongs to someone else. */
export async function getConversationOrThrow({ id, userId }: { id: string; userId: string }): Promise<Conversation> {
  if (!isUuid(id)) throw new AppError("conversation_not_found", "No conversation with this id.");
  const db = await getDb();
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
    .limit(1);
  if (!row) throw new AppError("conversation_not_found", "No conversation with this id.");
  return row;
}

/** The caller's conversations, most recently active first, keyset-paginated. */
export async function listConversations(input: {
  userId: string;
  limit: number;
  cursor?: string;
  q?: string;
  archived: boolean;
  pinned?: boolean;
}): Promise<{ rows: Conversation[]; nextCursor: string | null }> {
  const db = await getDb();
  const scope = { userId: input.userId, list: "conversations" };
  const cursor = input.cursor ? await decodeCursor(input.cursor, scope, isTimestampIdCursor) : undefined;
  const filters = [eq(conversations.userId, input.userId), eq(conversations.archived, input.archived)];
  // No index of its own: the activity index is walked in order and the flag filtered on the way.
  if (input.pinned !== undefined) filters.push(eq(conversations.pinned, input.pinned));
  if (cursor) {
    // Compare against the exact stored timestamp text so microseconds are not lost.
    filters.push(sql`(${conversations.activityAt}, ${conversations.id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`);
  }
  if (input.q) {
    // Postgres full-text search (same on PGlite and a server); the GIN indexes match these expressions.
    const query = sql`websearch_to_tsquery('simple', ${input.q})`;
    const matchingMessage = db
      .select({ one: sql`1` })
      .from(messages)
      .where(and(eq(messages.conversationId, conversations.id), sql`to_tsvector('simple', ${messages.content}) @@ ${query}`));
    const search = or(sql`to_tsvector('simple', ${conversations.title}) @@ ${query}`, exists(matchingMessage));
    if (search) filters.push(search);
  }
  const rows = await db
    .select({ row: conversations, activityText: sql<string>`${conversations.activityAt}::text` })
    .from(conversations)
    .where(and(...filters))
    .orderBy(descNullsLast(conversations.activityAt), descNullsLast(conversations.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > input.limit && last ? await encodeCursor({ at: last.activityText, id: last.row.id }, scope) : null;
  return { rows: page.map((r) => r.row), nextCursor };
}

/** Applies a patch (and, when given, replaces the attached documents) in one transaction. */
export async function updateConversation(input: {
  id: string;
  userId: string;
  patch: ConversationPatch;
  documentIds?: string[];
}): Promise<Conversation> {
  await getConversationOrThrow(input);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(conversations)
      .set({ ...input.patch, updatedAt: new Date() })
      .where(and(eq(conversations.id, input.id), eq(conversations.userId, input.userId)))
      .returning();
    if (!row) throw new AppError("conversation_not_found", "No conversation with this id.");
    if (input.documentIds) {
      await replaceConversationDocuments(tx, { conversationId: row.id, userId: input.userId, documentIds: input.documentIds });
    }
    return row;
  });
}

/** Deletes the conversation; its messages go with it (ON DELETE CASCADE). */
export async function deleteConversation({ id, userId }: { id: string; userId: string }): Promise<void> {
  if (!isUuid(id)) throw new AppError("conversation_not_found", "No conversation with this id.");
  const db = await getDb();
  const deleted = await db
    .delete(conversations)
    .where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
    .returning({ id: conversations.id });
  if (deleted.length === 0) throw new AppError("conversation_not_found", "No conversation with this id.");
}

/**
 * A digest of the messages after `afterSeq` through `throughSeq` (their ids and text). An edit or a
 * regenerate at or before `throughSeq` rewrites or replaces at least the message at `throughSeq`,
 * so the digest tells whether a summary of that range still describes the conversation.
 */
export async function historyDigest(executor: Executor, input: { conversationId: string; afterSeq: number; throughSeq: number }): Promise<string> {
  const [row] = await executor
    .select({
      digest: sql<string>`coalesce(md5(string_agg(${messages.id}::text || ':' || md5(${messages.content}), ',' order by ${messages.seq})), '')`,
    })
    .from(messages)
    .where(and(eq(messages.conversationId, input.conversationId), gt(messages.seq, input.afterSeq), lte(messages.seq, input.throughSeq)));
  return row?.digest ?? "";
}

/**
 * Stores a rolling summary unless a newer one got there first or the messages it summarized
 * (`basis`: their digest when the summarizer read them) were edited or replaced meanwhile, recording
 * what writing it cost in the same transaction either way. Returns whether it was stored.
 */
export async function saveSummary(input: {
  conversationId: string;
  userId: string;
  summary: string;
  throughSeq: number;
  tokens: number;
  usage: UsageEntry | null;
  basis?: { afterSeq: number; digest: string };
}): Promise<boolean> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    if (input.basis) {
      // Edits and regenerates lock the conversation row too, so none can land between this check
      // and the write below.
      await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, input.conversationId)).for("update");
      const digest = await historyDigest(tx, { conversationId: input.conversationId, afterSeq: input.basis.afterSeq, throughSeq: input.throughSeq });
      if (digest !== input.basis.digest) {
        await recordSummarySpend(tx, input);
        return false;
      }
    }
    const rows = await tx
      .update(conversations)
      .set({ summary: input.summary, summaryThroughSeq: input.throughSeq, summaryTokens: input.tokens, summaryUpdatedAt: new Date() })
      .where(
        and(
          eq(conversations.id, input.conversationId),
          eq(conversations.userId, input.userId),
          or(isNull(conversations.summaryThroughSeq), lt(conversations.summaryThroughSeq, input.throughSeq)),
        ),
      )
      .returning({ id: conversations.id });
    await recordSummarySpend(tx, input);
    return rows.length > 0;
  });
}

/**
 * The summary's spend happened whether it was stored or not: it joins the conversation's totals,
 * unless the conversation was deleted meanwhile (the ledger row then belongs to no conversation).
 */
async function recordSummarySpend(tx: Executor, input: { conversationId: string; usage: UsageEntry | null }): Promise<void> {
  const usage = input.usage;
  if (!usage) return;
  const [still] = await tx
    .update(conversations)
    .set({
      totalTokens: sql`${conversations.totalTokens} + ${usage.promptTokens + usage.completionTokens}`,
      totalCostUsd: sql`${conversations.totalCostUsd} + ${usage.costUsd}`,
    })
    .where(eq(conversations.id, input.conversationId))
    .returning({ id: conversations.id });
  await recordUsage(tx, { ...usage, conversationId: still ? input.conversationId : null });
}
