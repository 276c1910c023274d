import pg from "pg";
import type { UsersFile } from "./users-load";

/**
 * An API key for every seeded user (bench/users.ts), in one set-based insert: the keys are made
 * and hashed by the app's own generateApiKey, then written with unnest. Each user is paired with
 * one of their conversations (an unarchived one where they have it) for the visit's reads and
 * message. Run after bench/lib/crud-seed.ts has filled the database.
 */
export async function seedUserKeys(url: string): Promise<UsersFile & { seconds: number }> {
  const { generateApiKey } = await import("../../lib/auth/api-key-token");
  const started = performance.now();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ user_id: string; conversation_id: string }>(
      `select u.id as user_id,
              (select c.id from conversations c where c.user_id = u.id order by c.archived, c.created_at limit 1) as conversation_id
       from users u order by u.created_at`,
    );
    const keys = rows.map(() => generateApiKey());
    await db.query(
      `insert into api_keys (user_id, name, prefix, key_hash, scopes)
       select k.user_id, 'users bench', k.prefix, k.hash, '{conversations:read,conversations:write}'::text[]
       from unnest($1::uuid[], $2::text[], $3::text[]) as k(user_id, prefix, hash)`,
      [rows.map((r) => r.user_id), keys.map((k) => k.prefix), keys.map((k) => k.hash)],
    );
    return {
      users: rows.map((r, i) => ({ key: keys[i]!.key, conversationId: r.conversation_id })),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await db.end();
  }
}
