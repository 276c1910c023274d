import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { float4, timestamps } from "./columns";

export const conversationModes = ["open", "grounded"] as const;
export type ConversationMode = (typeof conversationModes)[number];

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull().default("New chat"),
    mode: text("mode", { enum: conversationModes }).notNull().default("open"),
    model: text("model").notNull(),
    systemPrompt: text("system_prompt"),
    /** Sampling temperature for replies (null: the provider's default). 0 makes replies cacheable. */
    temperature: float4("temperature"),
    pinned: boolean("pinned").notNull().default(false),
    archived: boolean("archived").notNull().default(false),
    /** Highest seq handed out; incremented in the transaction that inserts a message. */
    lastSeq: integer("last_seq").notNull().default(0),
    totalTokens: integer("total_tokens").notNull().default(0),
    totalCostUsd: numeric("total_cost_usd", { precision: 14, scale: 8, mode: "number" })
      .notNull()
      .default(0),
    /** Rolling summary of messages 1…summary_through_seq, written after a reply when turns fall out of the window. */
    summary: text("summary"),
    summaryThroughSeq: integer("summary_through_seq"),
    summaryTokens: integer("summary_tokens"),
    summaryUpdatedAt: timestamp("summary_updated_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** Set whenever a message is appended; the sidebar's "most recent first" order. */
    activityAt: timestamp("activity_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // "My conversations, most recently active first" walks this index in order.
    index("conversations_user_activity_idx").on(t.userId, t.archived, t.activityAt.desc(), t.id.desc()),
    // The sidebar's pinned section (pinned=true) reads this small partial index instead of
    // filtering a walk over every conversation the user has.
    index("conversations_user_pinned_idx").on(t.userId, t.archived, t.activityAt.desc(), t.id.desc()).where(sql`${t.pinned}`),
    check("conversations_mode_check", sql`${t.mode} in ('open', 'grounded')`),
    // Full-text search on titles (the 'simple' configuration: no stemming, any language).
    index("conversations_title_fts_idx").using("gin", sql`to_tsvector('simple', ${t.title})`),
  ],
);

export const messageRoles = ["user", "assistant", "system"] as const;
export type MessageRole = (typeof messageRoles)[number];
export const messageStatuses = ["complete", "streaming", "aborted", "error", "interrupted"] as const;
export type MessageStatus = (typeof messageStatuses)[number];

export type CitationPart = {
  type: "citation";
  index: number;
  documentId: string;
  filename: string;
  chunkId: string;
  pageStart: number;
  pageEnd: number;
  score: number;
  snippet: string;
};

export type RetrievalPart = {
  type: "retrieval";
  query: string;
  durationMs: number;
  candidates: Array<{
    chunkId: string;
    documentId: string;
    pageStart: number;
    pageEnd: number;
    score: number;
    lexicalScore: number | null;
    vectorScore: number | null;
    used: boolean;
  }>;
};

/** What an assistant reply's request carried, against the model's window. */
export type ContextPart = {
  type: "context";
  /** Tokens in the assembled request (counted by us, before the call). */
  tokens: number;
  window: number;
  /** The summary that stood in for messages 1…summaryThroughSeq, if one was sent. */
  summaryThroughSeq: number | null;
  /** The oldest message sent verbatim. */
  includedFromSeq: number | null;
  /** Older messages neither sent nor yet summarized. */
  omittedMessages: number;
  truncated: boolean;
};

export type MessagePart =
  | { type: "text"; text: string }
  | CitationPart
  | RetrievalPart
  | ContextPart
  | { type: "tool"; name: string; input: unknown; output?: unknown };

export type StoredProblem = { code: string; title: string; status: number; detail?: string };

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    role: text("role", { enum: messageRoles }).notNull(),
    content: text("content").notNull().default(""),
    parts: jsonb("parts").$type<MessagePart[]>().notNull().default([]),
    status: text("status", { enum: messageStatuses }).notNull().default("complete"),
    provider: text("provider"),
    model: text("model"),
    fallbackUsed: boolean("fallback_used").notNull().default(false),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    /** Prompt tokens the provider served from its prompt cache (part of prompt_tokens). */
    cachedTokens: integer("cached_tokens"),
    /** The provider reported no usage; the counts are ours. */
    usageEstimated: boolean("usage_estimated").notNull().default(false),
    /** Served from the response cache: no model call, no tokens. */
    cached: boolean("cached").notNull().default(false),
    costUsd: numeric("cost_usd", { precision: 14, scale: 8, mode: "number" }),
    /** The content's token count, taken once when the message is written, in `token_family`. */
    tokenCount: integer("token_count"),
    tokenFamily: text("token_family"),
    latencyMs: integer("latency_ms"),
    ttftMs: integer("ttft_ms"),
    finishReason: text("finish_reason"),
    error: jsonb("error").$type<StoredProblem>(),
    /** The process streaming this row; start-up recovery only touches its own. */
    workerId: text("worker_id"),
    /** A stop was asked for (any instance); the one generating the reply sees it and aborts. */
    stopRequestedAt: timestamp("stop_requested_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    // Unique (conversation, seq) doubles as the ordered index for "messages of a conversation".
    uniqueIndex("messages_conversation_seq_key").on(t.conversationId, t.seq),
    index("messages_streaming_idx").on(t.workerId).where(sql`${t.status} = 'streaming'`),
    index("messages_content_fts_idx").using("gin", sql`to_tsvector('simple', ${t.content})`),
    check("messages_seq_positive", sql`${t.seq} > 0`),
    check("messages_role_check", sql`${t.role} in ('user', 'assistant', 'system')`),
    check(
      "messages_status_check",
      sql`${t.status} in ('complete', 'streaming', 'aborted', 'error', 'interrupted')`,
    ),
  ],
);

export const feedbackRatings = ["up", "down"] as const;

export const messageFeedback = pgTable(
  "message_feedback",
  {
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    rating: text("rating", { enum: feedbackRatings }).notNull(),
    comment: text("comment"),
    ...timestamps,
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.userId] }),
    check("message_feedback_rating_check", sql`${t.rating} in ('up', 'down')`),
  ],
);

/**
 * The stream log (Postgres by default): every UI-message-stream chunk of a reply, in batches, so a
 * reader on any instance can resume after the last event id it saw. A row with `done` closes the
 * stream. Rows are pruned some time after the reply ends (STREAM_LOG_TTL_SECONDS).
 */
export const streamEvents = pgTable(
  "stream_events",
  {
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    /** Event id of the first chunk in this batch (ids are 1, 2, 3… per message). */
    firstId: integer("first_id").notNull(),
    lastId: integer("last_id").notNull(),
    /** Serialized chunks, in order. */
    chunks: jsonb("chunks").$type<string[]>().notNull(),
    done: boolean("done").notNull().default(false),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.messageId, t.firstId] }), index("stream_events_created_idx").on(t.createdAt)],
);
