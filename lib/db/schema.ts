import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  customType,
  date,
  real,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
};

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    name: text("name"),
    passwordHash: text("password_hash").notNull(),
    /** Spending limits (null: the BUDGET_* defaults; 0: none). */
    budgetTokensPerDay: integer("budget_tokens_per_day"),
    budgetUsdPerMonth: numeric("budget_usd_per_month", { precision: 14, scale: 6, mode: "number" }),
    ...timestamps,
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

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
    temperature: real("temperature"),
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

export const apiKeyScopes = ["conversations:read", "conversations:write", "documents:read", "documents:write"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key, shown in lists so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key; the key itself is never stored. */
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes").array().$type<ApiKeyScope[]>().notNull(),
    ...timestamps,
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    /** Spending limits for this key (null: the API_KEY_BUDGET_* defaults; 0: none). */
    budgetTokensPerDay: integer("budget_tokens_per_day"),
    budgetUsdPerMonth: numeric("budget_usd_per_month", { precision: 14, scale: 6, mode: "number" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("api_keys_key_hash_key").on(t.keyHash), index("api_keys_user_idx").on(t.userId, t.createdAt.desc())],
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
 * Idempotency records: the first response to (principal, key) is stored and replayed for 24 h.
 * `state` is `running` while the first request is in flight.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    requestHash: text("request_hash").notNull(),
    state: text("state", { enum: ["running", "done"] }).notNull().default("running"),
    responseStatus: integer("response_status"),
    responseHeaders: jsonb("response_headers").$type<Record<string, string>>(),
    responseBody: text("response_body"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);

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

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/** The original bytes, apart from the metadata row so lists never read them. */
export const documentBlobs = pgTable("document_blobs", {
  documentId: uuid("document_id")
    .primaryKey()
    .references(() => documents.id, { onDelete: "cascade" }),
  bytes: bytea("bytes").notNull(),
});

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

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

/** Small key/value store for generated server secrets shared by every instance. */
export const appSecrets = pgTable("app_secrets", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  ...timestamps,
});

export type User = typeof users.$inferSelect;
export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type NewMessage = typeof messages.$inferInsert;
export type ApiKey = typeof apiKeys.$inferSelect;
export type Document = typeof documents.$inferSelect;
export type DocumentChunk = typeof documentChunks.$inferSelect;

export const usageKinds = ["chat", "summary", "embedding"] as const;
export type UsageKind = (typeof usageKinds)[number];

/**
 * One row per model call that costs tokens: replies, summaries, embeddings. `GET /usage` reads it;
 * a conversation's rows go when it is deleted.
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    apiKeyId: uuid("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    conversationId: uuid("conversation_id").references(() => conversations.id, { onDelete: "cascade" }),
    /** No foreign key: the row goes with its conversation, and messages are only deleted with one. */
    messageId: uuid("message_id"),
    documentId: uuid("document_id").references(() => documents.id, { onDelete: "set null" }),
    kind: text("kind", { enum: usageKinds }).notNull(),
    provider: text("provider").notNull(),
    model: text("model").notNull(),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    cachedTokens: integer("cached_tokens").notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 14, scale: 8, mode: "number" }).notNull().default(0),
    estimated: boolean("estimated").notNull().default(false),
    cached: boolean("cached").notNull().default(false),
    ...timestamps,
  },
  (t) => [
    index("usage_events_user_time_idx").on(t.userId, t.createdAt),
    // For the cascades: deleting a conversation or a document must not scan the ledger.
    index("usage_events_conversation_idx").on(t.conversationId),
    index("usage_events_document_idx").on(t.documentId).where(sql`${t.documentId} is not null`),
    check("usage_events_kind_check", sql`${t.kind} in ('chat', 'summary', 'embedding')`),
  ],
);

/**
 * Spend per budget subject (`user:<id>` or `key:<id>`) per UTC day, added to in the transaction
 * that records the usage. Budgets read one row (tokens today) or a month of rows (dollars), and
 * deleting a conversation does not hand its spend back.
 */
export const usageCounters = pgTable(
  "usage_counters",
  {
    subject: text("subject").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokens: integer("tokens").notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 14, scale: 8, mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.subject, t.day] }), index("usage_counters_user_idx").on(t.userId)],
);

export type UsageEvent = typeof usageEvents.$inferSelect;

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
