import { and, eq, inArray, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { getDb } from "../client";
import { messageFeedback, type Message } from "../schema";

export type Feedback = typeof messageFeedback.$inferSelect;

/** One rating per user and message; rating again replaces it. */
export async function upsertFeedback(input: {
  message: Message;
  userId: string;
  rating: "up" | "down";
  comment: string | null;
}): Promise<Feedback> {
  if (input.message.role !== "assistant") {
    throw new AppError("validation_failed", "Only assistant replies can be rated.", {
      errors: [{ path: "message_id", message: "not an assistant message" }],
    });
  }
  const db = await getDb();
  const now = new Date();
  const [row] = await db
    .insert(messageFeedback)
    .values({ messageId: input.message.id, userId: input.userId, rating: input.rating, comment: input.comment, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [messageFeedback.messageId, messageFeedback.userId],
      set: { rating: input.rating, comment: input.comment, updatedAt: sql`now()` },
    })
    .returning();
  if (!row) throw new Error("upsert returned no row");
  return row;
}

/** The user's feedback on these messages, by message id. */
export async function listFeedback(input: { messageIds: string[]; userId: string }): Promise<Map<string, Feedback>> {
  if (input.messageIds.length === 0) return new Map();
  const db = await getDb();
  const rows = await db
    .select()
    .from(messageFeedback)
    .where(and(inArray(messageFeedback.messageId, input.messageIds), eq(messageFeedback.userId, input.userId)));
  return new Map(rows.map((row) => [row.messageId, row]));
}

/** Clears the user's rating of a message; clearing one that is not there is not an error. */
export async function deleteFeedback(input: { messageId: string; userId: string }): Promise<void> {
  const db = await getDb();
  await db.delete(messageFeedback).where(and(eq(messageFeedback.messageId, input.messageId), eq(messageFeedback.userId, input.userId)));
}
