import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { appSecrets } from "@/lib/db/schema";
import { env } from "@/lib/env";

let cached: Promise<string> | undefined;

/**
 * The JWT signing secret: AUTH_SECRET when configured; otherwise one generated on first start and
 * kept in the database, so every instance sharing the database signs sessions alike.
 */
export function getAuthSecret(): Promise<string> {
  if (env.authSecret) return Promise.resolve(env.authSecret);
  cached ??= (async () => {
    const db = await getDb();
    await db
      .insert(appSecrets)
      .values({ key: "auth_secret", value: randomBytes(32).toString("base64url") })
      .onConflictDoNothing();
    const [row] = await db.select().from(appSecrets).where(eq(appSecrets.key, "auth_secret"));
    if (!row) throw new Error("auth secret could not be stored");
    return row.value;
  })().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}
