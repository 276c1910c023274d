import { asc, eq, sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { getDb } from "../client";
import { users, type User } from "../schema";

export type PublicUser = Pick<User, "id" | "email" | "name" | "createdAt">;

const publicColumns = { id: users.id, email: users.email, name: users.name, createdAt: users.createdAt };

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
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt };
}

export async function getUserById({ id }: { id: string }): Promise<PublicUser | undefined> {
  const db = await getDb();
  const [row] = await db.select(publicColumns).from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function listUsers(): Promise<PublicUser[]> {
  const db = await getDb();
  return db.select(publicColumns).from(users).orderBy(asc(users.createdAt));
}
