import { and, asc, desc, eq, gt, inArray, isNotNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { decodeCursor, encodeCursor, isUuid, type CursorScope } from "@/lib/api/pagination";
import { recordUsage } from "@/lib/usage/ledger";
import { getDb, type Db } from "../client";
import { conversations, messages, type Message, type MessagePart, type MessageRole, type MessageStatus, type StoredProblem } from "../schema";

/**
 * Appends a message, assigning the next `seq` in the same transaction. The conditional UPDATE
 * takes the conversation's row lock, so concurrent appends queue up behind it and the numbers
 * stay gap-free and unique; a rolled-back append rolls its number back too.
 */
export async function appendMessage(input: {
  conversationId: string;
  userId: string;
  role: MessageRole;
  content: string;
  status?: MessageStatus;
  model?: string | null;
  provider?: string | null;
  workerId?: string | null;
  parts?: MessagePart[];
  /** The content's token count and the tokenizer family it was taken in. */
  tokens?: { count: number; family: string } | null;
}): Promise<Message> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const now = new Date();
    const [counter] = await tx
      .update(conversations)
      .set({ lastSeq: sql`${conversations.lastSeq} + 1`, activityAt: now, lastMessageAt: now })
      .where(and(eq(conversations.id, input.conversationId), eq(conversations.userId, input.userId)))
      .returning({ seq: conversations.lastSeq });
    if (!counter) throw new AppError("conversation_not_found", "No conversation with this id.");
    const [row] = await tx
      .insert(messages)
      .values({
        conversationId: input.conversationId,
        seq: counter.seq,
        role: input.role,
        content: input.content,
        status: input.status ?? "complete",
        model: input.model ?? null,
        provider: input.provider ?? null,
        workerId: input.workerId ?? null,
        parts: input.parts ?? [],
        tokenCount: input.tokens?.count ?? null,
        tokenFamily: input.tokens?.family ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  });
}

export type AssistantOutcome = {
  content: string;
  status: Exclude<MessageStatus, "streaming">;
  /** Null when no model was called (e.g. a grounded reply while documents are indexing). */
  model: string | null;
  provider: string | null;
  fallbackUsed: boolean;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens?: number | null;
  usageEstimated?: boolean;
  cached?: boolean;
  costUsd: number | null;
  tokenCount?: number | null;
  tokenFamily?: string | null;
  /** Replaces the parts written at the start (citations, context), when given. */
  parts?: MessagePart[];
  latencyMs: number;
  ttftMs: number | null;
  finishReason: string | null;
  error: StoredProblem | null;
};

/**
 * Writes the final state of a streamed reply, adds its usage to the conversation's totals and, when
 * a model was called, records it in the usage ledger — one transaction.
 */
export async function finishAssistantMessage(input: {
  id: string;
  conversationId: string;
  outcome: AssistantOutcome;
  /** Who pays, and the budget reservation the ledger row settles. */
  usage?: { userId: string; apiKeyId: string | null; reservationId?: string | null } | null;
}): Promise<Message> {
  const db = await getDb();
  const { outcome } = input;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(messages)
      .set({ ...outcome, workerId: null, updatedAt: new Date() })
      .where(eq(messages.id, input.id))
      .returning();
    if (!row) throw new Error(`assistant message ${input.id} vanished`);
    const tokens = (outcome.promptTokens ?? 0) + (outcome.completionTokens ?? 0);
    await tx
      .update(conversations)
      .set({
        totalTokens: sql`${conversations.totalTokens} + ${tokens}`,
        totalCostUsd: sql`${conversations.totalCostUsd} + ${outcome.costUsd ?? 0}`,
      })
      .where(eq(conversations.id, input.conversationId));
    if (input.usage && outcome.model && outcome.provider) {
      await recordUsage(tx, {
        ...input.usage,
        kind: "chat",
        provider: outcome.provider,
        model: outcome.model,
        promptTokens: outcome.promptTokens ?? 0,
        completionTokens: outcome.completionTokens ?? 0,
        cachedTokens: outcome.cachedTokens ?? 0,
        costUsd: outcome.costUsd ?? 0,
        estimated: outcome.usageEstimated ?? false,
        cached: outcome.cached ?? false,
        conversationId: input.conversationId,
        messageId: input.id,
      });
    }
    return row;
  });
}

/** Saves the text streamed so far, so a crash loses at most the last flush interval. */
export async function savePartialContent(input: { id: string; content: string }): Promise<void> {
  const db = await getDb();
  await db
    .update(messages)
    .set({ content: input.content, updatedAt: new Date() })
    .where(and(eq(messages.id, input.id), eq(messages.status, "streaming")));
}

/** Full history in the order of record (the conversation's ownership is checked by the caller). */
export async function listAllMessages({ conversationId }: { conversationId: string }): Promise<Message[]> {
  const db = await getDb();
  return db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.seq));
}

function isSeqCursor(value: unknown): value is { seq: number; order?: "desc" } {
  const v = value as { seq?: unknown; order?: unknown } | null;
  const seq = v?.seq;
  return (
    typeof seq === "number" && Number.isInteger(seq) && seq >= 0 && seq <= 2_147_483_647 && (v?.order === undefined || v.order === "desc")
  );
}

/**
 * A page of messages by `seq`: forward from the first (`asc`), or back from the newest (`desc`).
 * The cursor remembers its direction, so one issued for the other order is refused.
 */
export async function listMessagesPage(input: {
  /** The conversation's owner (checked by the caller), whom the page's cursor is bound to. */
  userId: string;
  conversationId: string;
  limit: number;
  cursor?: string;
  order?: "asc" | "desc";
}): Promise<{ rows: Message[]; nextCursor: string | null }> {
  const db = await getDb();
  const descending = input.order === "desc";
  const scope = messagesCursorScope(input);
  const cursor = input.cursor ? await decodeCursor(input.cursor, scope, isSeqCursor) : undefined;
  if (cursor && (cursor.order === "desc") !== descending) {
    throw new AppError("invalid_cursor", "The cursor was issued for the other order.");
  }
  const bound = cursor ? (descending ? lt(messages.seq, cursor.seq) : gt(messages.seq, cursor.seq)) : undefined;
  const rows = await db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, input.conversationId), bound))
    .orderBy(descending ? desc(messages.seq) : asc(messages.seq))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > input.limit && last ? await encodeCursor(descending ? { seq: last.seq, order: "desc" } : { seq: last.seq }, scope) : null;
  return { rows: page, nextCursor };
}

/** What a message page's cursor is bound to: the owner and the one conversation's messages. */
export function messagesCursorScope({ userId, conversationId }: { userId: string; conversationId: string }): CursorScope {
  return { userId, list: `conversations/${conversationId}/messages` };
}

/** The newest `limit` messages, in seq order: what a chat view opens on. */
export async function listNewestMessages(input: { userId: string; conversationId: string; limit: number }): Promise<Message[]> {
  const { rows } = await listMessagesPage({ ...input, order: "desc" });
  return rows.reverse();
}

export type HistoryRow = Pick<Message, "seq" | "role" | "content" | "parts" | "tokenCount" | "tokenFamily">;

/**
 * What the model may see: every user message and every assistant reply that has text, in order,
 * after `afterSeq` (what the summary covers) and before `beforeSeq`. Replies still streaming for a
 * concurrent turn are left out.
 */
export async function loadModelHistory(input: { conversationId: string; beforeSeq: number; afterSeq?: number }): Promise<HistoryRow[]> {
  const db = await getDb();
  return db
    .select({
      seq: messages.seq,
      role: messages.role,
      content: messages.content,
      parts: messages.parts,
      tokenCount: messages.tokenCount,
      tokenFamily: messages.tokenFamily,
    })
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, input.conversationId),
        lt(messages.seq, input.beforeSeq),
        gt(messages.seq, input.afterSeq ?? 0),
        ne(messages.status, "streaming"),
        ne(messages.content, ""),
      ),
    )
    .orderBy(asc(messages.seq));
}

export async function getMessageOrThrow(input: { id: string; conversationId: string }): Promise<Message> {
  const row = isUuid(input.id) ? await getMessage(input) : null;
  if (!row) throw new AppError("message_not_found", "No message with this id.");
  return row;
}

/**
 * Recovery of replies whose writer is gone: they are marked `interrupted` with their partial text —
 * the longer of the row's last flush and what the stream log holds (`logText`), so no word a reader
 * was shown is lost. At start-up: this instance's own, and anyone's not touched for a minute (live
 * replies are touched every 5 s, so that writer is dead — e.g. an instance that never came back
 * under the same INSTANCE_ID). While running (`running`: the replies this process is writing):
 * any reply not touched for a minute that is not among them.
 */
const STALE_STREAM_MS = 60_000;

export async function markInterruptedMessages(
  db: Db,
  input: { workerId: string; logText?: (messageId: string) => Promise<string | null>; running?: string[] },
): Promise<number> {
  const { workerId, logText, running } = input;
  const stale = lt(messages.updatedAt, new Date(Date.now() - STALE_STREAM_MS));
  const stranded = running
    ? and(eq(messages.status, "streaming"), stale, running.length > 0 ? notInArray(messages.id, running) : undefined)
    : and(eq(messages.status, "streaming"), or(eq(messages.workerId, workerId), stale));
  const detail = running ? "The server writing this reply stopped before it finished." : "The server restarted while this reply was being written.";
  const rows = await db.select({ id: messages.id, content: messages.content }).from(messages).where(stranded);
  let recovered = 0;
  for (const row of rows) {
    const logged = await logText?.(row.id).catch(() => null);
    const content = logged && logged.length > row.content.length && logged.startsWith(row.content) ? logged : row.content;
    const updated = await db
      .update(messages)
      .set({
        content,
        status: "interrupted",
        workerId: null,
        finishReason: "interrupted",
        error: { code: "interrupted", title: "Reply interrupted", status: 503, detail },
        updatedAt: new Date(),
      })
      .where(and(eq(messages.id, row.id), stranded))
      .returning({ id: messages.id });
    recovered += updated.length;
  }
  return recovered;
}

/** The heartbeat of replies being written: their rows' `updated_at` moves even while the model is silent. */
export async function touchReplies(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const db = await getDb();
  await db
    .update(messages)
    .set({ updatedAt: new Date() })
    .where(and(inArray(messages.id, ids), eq(messages.status, "streaming")));
}

/** Asks for a reply to be stopped; the process generating it sees the flag within a poll interval. */
export async function requestStop(input: { id: string; conversationId: string }): Promise<void> {
  const db = await getDb();
  await db
    .update(messages)
    .set({ stopRequestedAt: new Date() })
    .where(and(eq(messages.id, input.id), eq(messages.conversationId, input.conversationId), eq(messages.status, "streaming")));
}

/** Which of these replies (streamed by this process) someone asked to stop. */
export async function stopRequestedAmong(ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const db = await getDb();
  const rows = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(inArray(messages.id, ids), isNotNull(messages.stopRequestedAt)));
  return rows.map((r) => r.id);
}

/** A message of a conversation (whose ownership the caller has checked), or null. */
export async function getMessage(input: { id: string; conversationId: string }): Promise<Message | null> {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, input.id), eq(messages.conversationId, input.conversationId)))
    .limit(1);
  return row ?? null;
}
