import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  date,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { apiKeys, users } from "./accounts";
import { timestamps } from "./columns";
import { conversations } from "./conversations";
import { documents } from "./documents";

export const usageKinds = ["chat", "summary", "embedding"] as const;
export type UsageKind = (typeof usageKinds)[number];

/**
 * One row per model call that costs tokens: replies, summaries, embeddings. `GET /usage` reads it.
 * Deleting a conversation keeps its rows (with no conversation): spend history is not erasable.
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    apiKeyId: uuid("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    conversationId: uuid("conversation_id").references(() => conversations.id, { onDelete: "set null" }),
    /**
     * No foreign key: the row outlives its message — a reply replaced by regenerate or edit is
     * deleted, but the money spent on it stays in the ledger.
     */
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
    // For the set-nulls: deleting a conversation or a document must not scan the ledger.
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
    /** Held by model calls in progress (usage_reservations made on this day), released when they settle. */
    reservedTokens: integer("reserved_tokens").notNull().default(0),
    reservedUsd: numeric("reserved_usd", { precision: 14, scale: 8, mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.subject, t.day] }), index("usage_counters_user_idx").on(t.userId)],
);

/**
 * A model call's estimated spend, held against the budgets of `subjects` (and added to their
 * counter rows of `day`) from before the call until its real spend is recorded. A process that dies
 * leaves its row; once `expires_at` passes, the next call refused for want of budget releases it.
 */
export const usageReservations = pgTable("usage_reservations", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  subjects: text("subjects").array().notNull(),
  day: date("day", { mode: "string" }).notNull(),
  tokens: integer("tokens").notNull(),
  costUsd: numeric("cost_usd", { precision: 14, scale: 8, mode: "number" }).notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
});

export type UsageEvent = typeof usageEvents.$inferSelect;
