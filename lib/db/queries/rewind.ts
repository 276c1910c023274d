import { and, desc, eq, gt, lt } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { getDb, type Executor } from "../client";
import { conversations, messages, type Conversation, type Message } from "../schema";

/**
 * Rewinding a conversation so a reply can be generated again: regenerate (the last reply goes) and
 * edit (a user message's text changes and everything after it goes). Each is one transaction that
 * holds the conversation's row lock — the lock `appendMessage` takes to hand out `seq` — so the
 * checks and the rewind see no concurrent append. Afterwards `last_seq` is the rewound-to message's
 * seq: the new reply is appended as seq + 1, so seq stays 1…n, gap-free. Removed replies' usage
 * rows stay in the ledger and their tokens and cost stay in the conversation's totals (the money
 * was spent); their feedback and stream logs go with them.
 */

type Rewound = { conversation: Conversation; userMessage: Message };

const notFound = () => new AppError("message_not_found", "No message with this id.");

async function lockConversation(tx: Executor, input: { conversationId: string; userId: string }): Promise<Conversation> {
  const [row] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, input.conversationId), eq(conversations.userId, input.userId)))
    .for("update");
  if (!row) throw new AppError("conversation_not_found", "No conversation with this id.");
  return row;
}

async function assertNothingStreaming(tx: Executor, conversationId: string): Promise<void> {
  const [streaming] = await tx
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), eq(messages.status, "streaming")))
    .limit(1);
  if (streaming) {
    throw new AppError("reply_in_progress", "A reply in this conversation is still being generated; wait for it to finish or stop it first.", {
      extensions: { message_id: streaming.id },
    });
  }
}

/** A turn saves its question, then (after retrieval and context assembly) its reply row. */
const TURN_START_WINDOW_MS = 60_000;

/**
 * A conversation whose last message is a question, touched moments ago, is a turn (or a rewind)
 * between saving the question and adding its reply row: an edit now would delete or change the
 * question that reply is about to answer, or answer it twice. `activity_at` moves with every
 * append and rewind, so it covers both. An unanswered question left from minutes ago (a reply that
 * could not be started) may be edited.
 */
async function assertNoTurnStarting(tx: Executor, conversation: Conversation): Promise<void> {
  const [last] = await tx
    .select({ id: messages.id, role: messages.role })
    .from(messages)
    .where(and(eq(messages.conversationId, conversation.id), eq(messages.seq, conversation.lastSeq)))
    .limit(1);
  if (last?.role === "user" && Date.now() - conversation.activityAt.getTime() < TURN_START_WINDOW_MS) {
    throw new AppError("reply_in_progress", "A reply in this conversation is just starting; wait for it to finish or stop it first.", {
      extensions: { message_id: last.id },
    });
  }
}

async function lockedMessage(tx: Executor, input: { conversationId: string; messageId: string }): Promise<Message> {
  if (!isUuid(input.messageId)) throw notFound();
  const [row] = await tx
    .select()
    .from(messages)
    .where(and(eq(messages.id, input.messageId), eq(messages.conversationId, input.conversationId)))
    .limit(1);
  if (!row) throw notFound();
  return row;
}

/**
 * Deletes every message after `throughSeq`, moves `last_seq` back to it and drops the rolling
 * summary if it covers anything from `staleFromSeq` on (its text would describe messages that no
 * longer exist or now say something else).
 */
async function rewindTo(tx: Executor, conversation: Conversation, throughSeq: number, staleFromSeq: number): Promise<Conversation> {
  await tx.delete(messages).where(and(eq(messages.conversationId, conversation.id), gt(messages.seq, throughSeq)));
  const summaryStale = conversation.summaryThroughSeq !== null && conversation.summaryThroughSeq >= staleFromSeq;
  const now = new Date();
  const [row] = await tx
    .update(conversations)
    .set({
      lastSeq: throughSeq,
      activityAt: now,
      lastMessageAt: now,
      ...(summaryStale ? { summary: null, summaryThroughSeq: null, summaryTokens: null, summaryUpdatedAt: null } : {}),
    })
    .where(eq(conversations.id, conversation.id))
    .returning();
  if (!row) throw new AppError("conversation_not_found", "No conversation with this id.");
  return row;
}

/**
 * Regenerate: `messageId` must be the conversation's last message, an assistant reply, with no
 * reply of the conversation streaming. The reply is deleted; the new one takes its seq.
 * Returns the user message it answered (the newest user message before it).
 */
export async function rewindForRegenerate(input: { conversationId: string; userId: string; messageId: string }): Promise<Rewound> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const conversation = await lockConversation(tx, input);
    const reply = await lockedMessage(tx, input);
    if (reply.role !== "assistant") {
      throw new AppError("validation_failed", "Only assistant replies can be regenerated; to change a user message, edit it.", {
        errors: [{ path: "message_id", message: "not an assistant message" }],
      });
    }
    await assertNothingStreaming(tx, conversation.id);
    if (reply.seq !== conversation.lastSeq) {
      throw new AppError("not_last_reply", "Only the conversation's last reply can be regenerated; to rerun from an earlier point, edit the user message before it.");
    }
    const [userMessage] = await tx
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), lt(messages.seq, reply.seq), eq(messages.role, "user")))
      .orderBy(desc(messages.seq))
      .limit(1);
    if (!userMessage) throw new AppError("not_last_reply", "This reply answers no user message, so there is nothing to regenerate it from.");
    const rewound = await rewindTo(tx, conversation, reply.seq - 1, reply.seq);
    return { conversation: rewound, userMessage };
  });
}

/**
 * Edit: a user message gets new text (and its token count), every later message is deleted and
 * the summary dropped if it covered the message. No reply of the conversation may be streaming.
 */
export async function rewindForEdit(input: {
  conversationId: string;
  userId: string;
  messageId: string;
  content: string;
  tokens: { count: number; family: string };
}): Promise<Rewound> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const conversation = await lockConversation(tx, input);
    const message = await lockedMessage(tx, input);
    if (message.role !== "user") {
      throw new AppError("validation_failed", "Only user messages can be edited; to get another reply, regenerate it.", {
        errors: [{ path: "message_id", message: "not a user message" }],
      });
    }
    await assertNothingStreaming(tx, conversation.id);
    await assertNoTurnStarting(tx, conversation);
    const [userMessage] = await tx
      .update(messages)
      .set({ content: input.content, tokenCount: input.tokens.count, tokenFamily: input.tokens.family, updatedAt: new Date() })
      .where(eq(messages.id, message.id))
      .returning();
    if (!userMessage) throw notFound();
    const rewound = await rewindTo(tx, conversation, message.seq, message.seq);
    return { conversation: rewound, userMessage };
  });
}
