import { asc, eq, sql, type SQL } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { getDb } from "../client";
import { sessions, users, type User } from "../schema";

export type PublicUser = Pick<User, "id" | "email" | "name" | "createdAt">;

/** The user's own spending limits as stored (null: the env default); budgets read them from the request's user. */
export type UserLimits = Pick<User, "budgetTokensPerDay" | "budgetUsdPerMonth">;

/** The user an API request acts for: read on every request, limits included, so a turn needs no extra query for them. */
export type SessionUser = PublicUser & UserLimits;

/** A user with whether an operator disabled the account (the session check and the admin CLI). */
export type UserAccount = SessionUser & { disabledAt: Date | null };

const publicColumns = { id: users.id, email: users.email, name: users.name, createdAt: users.createdAt };
export const sessionUserColumns = { ...publicColumns, budgetTokensPerDay: users.budgetTokensPerDay, budgetUsdPerMonth: users.budgetUsdPerMonth };
export const accountColumns = { ...sessionUserColumns, disabledAt: users.disabledAt };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function createUser(input: { email: string; password: string; name?: string | null }): Promise<PublicUser> {
  const db = await getDb();
  const passwordHash = await hashPassword(input.password);
  const [row] = await db
    .insert(users)
    .values({ email: normalizeEmail(input.email), name: input.name?.trim() || null, passwordHash })
    .onConflictDoNothing()
    .returning(publicColumns);
  if (!row) throw new AppError("email_taken", "An account with this email already exists.");
  return row;
}

async function findUserByEmail(email: string): Promise<User | undefined> {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, normalizeEmail(email)))
    .limit(1);
  return row;
}

// Verifying against a fixed hash when the email is unknown keeps response times alike, so
// timing does not reveal which emails are registered.
let decoyHash: Promise<string> | undefined;

export async function authenticateUser(input: { email: string; password: string }): Promise<PublicUser | null> {
  const user = await findUserByEmail(input.email);
  if (!user) {
    decoyHash ??= hashPassword("decoy-password-for-timing");
    await verifyPassword(input.password, await decoyHash);
    return null;
  }
  if (!(await verifyPassword(input.password, user.passwordHash))) return null;
  // Checked after the password, so the answer for a disabled account looks like a wrong password.
  if (user.disabledAt) return null;
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt };
}

// The admin CLI's queries below are operator queries: not scoped to an owner.

export async function listUsers(): Promise<UserAccount[]> {
  const db = await getDb();
  return db.select(accountColumns).from(users).orderBy(asc(users.createdAt));
}

/** A user by id or by email (case-insensitive, served by the lower(email) unique index). */
export function userMatch(user: string): SQL {
  return isUuid(user) ? eq(users.id, user) : eq(sql`lower(${users.email})`, normalizeEmail(user));
}

export const noSuchUser = (user: string) => new AppError("not_found", `no such user: ${user}`);

export async function findUserAccount({ user }: { user: string }): Promise<UserAccount> {
  const db = await getDb();
  const [row] = await db.select(accountColumns).from(users).where(userMatch(user)).limit(1);
  if (!row) throw noSuchUser(user);
  return row;
}

/** Disables (or re-enables) an account; disabling again keeps the first time. Disabling ends every session. */
export async function setUserDisabled({ user, disabled }: { user: string; disabled: boolean }): Promise<UserAccount> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ disabledAt: disabled ? sql`coalesce(${users.disabledAt}, now())` : null })
      .where(userMatch(user))
      .returning(accountColumns);
    if (!row) throw noSuchUser(user);
    // Re-enabling must not bring old cookies back to life.
    if (disabled) await tx.delete(sessions).where(eq(sessions.userId, row.id));
    return row;
  });
}

/** Sets a new password and ends every session, so a stolen cookie dies with the old password. */
export async function setUserPassword({ user, password }: { user: string; password: string }): Promise<UserAccount> {
  const passwordHash = await hashPassword(password);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [row] = await tx.update(users).set({ passwordHash }).where(userMatch(user)).returning(accountColumns);
    if (!row) throw noSuchUser(user);
    await tx.delete(sessions).where(eq(sessions.userId, row.id));
    return row;
  });
}
