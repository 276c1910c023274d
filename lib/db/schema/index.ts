/**
 * The database schema (Drizzle, Postgres dialect — the same on PGlite and a server), one module
 * per area; migrations in drizzle/ are generated from these files.
 */
import type { apiKeys, users } from "./accounts";
import type { conversations, messages } from "./conversations";
import type { documentChunks, documents } from "./documents";

export * from "./accounts";
export * from "./conversations";
export * from "./documents";
export * from "./usage";

export type User = typeof users.$inferSelect;
export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type NewMessage = typeof messages.$inferInsert;
export type ApiKey = typeof apiKeys.$inferSelect;
export type Document = typeof documents.$inferSelect;
export type DocumentChunk = typeof documentChunks.$inferSelect;
