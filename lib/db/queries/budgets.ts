import { eq } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { getDb } from "../client";
import { apiKeys, users } from "../schema";
import { noSuchUser, userMatch } from "./users";

/**
 * Per-user and per-API-key spending limits as stored (null: the env default; 0: no limit), for the
 * admin CLI. These are operator queries, so they are not scoped to an owner.
 */

/** A change to the stored limits: a number sets it, null resets it to the default, undefined leaves it. */
export type BudgetChange = { tokensPerDay?: number | null; usdPerMonth?: number | null };

type StoredLimits = { budgetTokensPerDay: number | null; budgetUsdPerMonth: number | null };
export type UserBudget = StoredLimits & { id: string; email: string };
export type ApiKeyBudget = StoredLimits & { id: string; userId: string; name: string; prefix: string; revokedAt: Date | null };

const userColumns = {
  id: users.id,
  email: users.email,
  budgetTokensPerDay: users.budgetTokensPerDay,
  budgetUsdPerMonth: users.budgetUsdPerMonth,
};

const apiKeyColumns = {
  id: apiKeys.id,
  userId: apiKeys.userId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  revokedAt: apiKeys.revokedAt,
  budgetTokensPerDay: apiKeys.budgetTokensPerDay,
  budgetUsdPerMonth: apiKeys.budgetUsdPerMonth,
};

const noSuchApiKey = (id: string) => new AppError("api_key_not_found", `no such API key: ${id}`);

function changes(change: BudgetChange): Partial<StoredLimits> {
  return {
    ...(change.tokensPerDay !== undefined ? { budgetTokensPerDay: change.tokensPerDay } : {}),
    ...(change.usdPerMonth !== undefined ? { budgetUsdPerMonth: change.usdPerMonth } : {}),
  };
}

export async function getUserBudget({ user }: { user: string }): Promise<UserBudget> {
  const db = await getDb();
  const [row] = await db.select(userColumns).from(users).where(userMatch(user)).limit(1);
  if (!row) throw noSuchUser(user);
  return row;
}

export async function setUserBudget({ user, ...change }: { user: string } & BudgetChange): Promise<UserBudget> {
  const set = changes(change);
  if (Object.keys(set).length === 0) return getUserBudget({ user });
  const db = await getDb();
  const [row] = await db.update(users).set(set).where(userMatch(user)).returning(userColumns);
  if (!row) throw noSuchUser(user);
  return row;
}

export async function getApiKeyBudget({ id }: { id: string }): Promise<ApiKeyBudget> {
  if (!isUuid(id)) throw noSuchApiKey(id);
  const db = await getDb();
  const [row] = await db.select(apiKeyColumns).from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (!row) throw noSuchApiKey(id);
  return row;
}

export async function setApiKeyBudget({ id, ...change }: { id: string } & BudgetChange): Promise<ApiKeyBudget> {
  if (!isUuid(id)) throw noSuchApiKey(id);
  const set = changes(change);
  if (Object.keys(set).length === 0) return getApiKeyBudget({ id });
  const db = await getDb();
  const [row] = await db.update(apiKeys).set(set).where(eq(apiKeys.id, id)).returning(apiKeyColumns);
  if (!row) throw noSuchApiKey(id);
  return row;
}
