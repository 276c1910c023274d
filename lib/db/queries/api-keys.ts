import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { generateApiKey, hashApiKey } from "@/lib/auth/api-key-token";
import { descNullsLast, getDb } from "../client";
import { apiKeys, users, type ApiKey, type ApiKeyScope } from "../schema";
import { sessionUserColumns, type SessionUser } from "./users";

export type PublicApiKey = Omit<ApiKey, "keyHash" | "userId">;

const publicColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  budgetTokensPerDay: apiKeys.budgetTokensPerDay,
  budgetUsdPerMonth: apiKeys.budgetUsdPerMonth,
};

export type AdminApiKey = PublicApiKey & { userId: string };
const adminColumns = { ...publicColumns, userId: apiKeys.userId };

/** Creates a key and returns it in full — the only time it is ever available. */
export async function createApiKey(input: {
  userId: string;
  name: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}): Promise<{ apiKey: PublicApiKey; key: string }> {
  const db = await getDb();
  const generated = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      userId: input.userId,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      expiresAt: input.expiresAt,
      prefix: generated.prefix,
      keyHash: generated.hash,
    })
    .returning(publicColumns);
  if (!row) throw new Error("insert returned no row");
  return { apiKey: row, key: generated.key };
}

/** The caller's keys that still work (not revoked), newest first. */
export async function listApiKeys({ userId }: { userId: string }): Promise<PublicApiKey[]> {
  const db = await getDb();
  return db
    .select(publicColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .orderBy(descNullsLast(apiKeys.createdAt));
}

export async function revokeApiKey({ id, userId }: { id: string; userId: string }): Promise<void> {
  if (!isUuid(id)) throw new AppError("api_key_not_found", "No API key with this id.");
  const db = await getDb();
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (rows.length === 0) throw new AppError("api_key_not_found", "No API key with this id.");
}

/** Admin CLI: revokes any user's key. Revoking a revoked key reports it as it is. */
export async function revokeApiKeyById({ id }: { id: string }): Promise<{ apiKey: AdminApiKey; revoked: boolean }> {
  const notFound = new AppError("api_key_not_found", `no such API key: ${id}`);
  if (!isUuid(id)) throw notFound;
  const db = await getDb();
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning(adminColumns);
  if (revoked) return { apiKey: revoked, revoked: true };
  const [existing] = await db.select(adminColumns).from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (!existing) throw notFound;
  return { apiKey: existing, revoked: false };
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** The user and key behind a presented key, if it is active (not revoked, not expired); a disabled owner is a 403. */
export async function authenticateApiKey(key: string): Promise<{ user: SessionUser; apiKey: PublicApiKey } | null> {
  const db = await getDb();
  const now = new Date();
  const [row] = await db
    .select({
      key: publicColumns,
      user: sessionUserColumns,
      disabledAt: users.disabledAt,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(
      and(
        eq(apiKeys.keyHash, hashApiKey(key)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), sql`${apiKeys.expiresAt} > ${now}`),
      ),
    )
    .limit(1);
  if (!row) return null;
  if (row.disabledAt) throw new AppError("account_disabled", "The account this API key belongs to has been disabled by an administrator.");
  // last_used_at to the minute: one write per key per minute, not one per request.
  if (!row.key.lastUsedAt || now.getTime() - row.key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.id, row.key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - LAST_USED_RESOLUTION_MS)))));
    row.key.lastUsedAt = now;
  }
  return { user: row.user, apiKey: row.key };
}
