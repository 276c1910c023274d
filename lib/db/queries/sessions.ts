import { and, eq, gt, lt, sql } from "drizzle-orm";
import { isUuid } from "@/lib/api/pagination";
import { getDb } from "../client";
import { sessions, users } from "../schema";
import { accountColumns, type UserAccount } from "./users";

/** Starts a browser session for a user who just signed in, and clears that user's expired ones. */
export async function createSession({ userId, maxAgeSeconds }: { userId: string; maxAgeSeconds: number }): Promise<string> {
  const db = await getDb();
  await db.delete(sessions).where(and(eq(sessions.userId, userId), lt(sessions.expiresAt, sql`now()`)));
  const [row] = await db
    .insert(sessions)
    .values({ userId, expiresAt: sql`now() + make_interval(secs => ${maxAgeSeconds})` })
    .returning({ id: sessions.id });
  if (!row) throw new Error("insert returned no row");
  return row.id;
}

/**
 * The account a session cookie names and whether that session still stands (not signed out,
 * revoked or expired), in the one statement every request already spent on reading its user.
 */
export async function getSessionAccount({
  userId,
  sessionId,
}: {
  userId: string;
  sessionId: string;
}): Promise<{ account: UserAccount; live: boolean } | undefined> {
  if (!isUuid(userId) || !isUuid(sessionId)) return undefined;
  const db = await getDb();
  const [row] = await db
    .select({ ...accountColumns, sessionId: sessions.id })
    .from(users)
    .leftJoin(sessions, and(eq(sessions.id, sessionId), eq(sessions.userId, users.id), gt(sessions.expiresAt, sql`now()`)))
    .where(eq(users.id, userId))
    .limit(1);
  if (!row) return undefined;
  const { sessionId: found, ...account } = row;
  return { account, live: found !== null };
}

/** Signs one browser out. */
export async function deleteSession({ userId, sessionId }: { userId: string; sessionId: string }): Promise<void> {
  if (!isUuid(userId) || !isUuid(sessionId)) return;
  const db = await getDb();
  await db.delete(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)));
}
