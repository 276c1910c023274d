/**
 * Creates one user and an API key with the app's own queries, on whatever DATABASE_URL/DATA_DIR
 * the environment names, then closes the database (so `next start` can open a PGlite directory
 * afterwards). Prints `{ "key": "bgpt_…" }` on stdout. Spawned by bench/lib/stream-bench.ts:
 *
 *   DATABASE_URL=… AUTH_SECRET=… npx tsx bench/lib/seed-key.ts
 */
import { randomUUID } from "node:crypto";

async function main() {
  const { createUser } = await import("../../lib/db/queries/users");
  const { createApiKey } = await import("../../lib/db/queries/api-keys");
  const { closeDb } = await import("../../lib/db/client");
  const user = await createUser({ email: `bench-${randomUUID()}@example.test`, password: "bench password 123" });
  const { key } = await createApiKey({ userId: user.id, name: "bench", scopes: ["conversations:read", "conversations:write"], expiresAt: null });
  await closeDb();
  process.stdout.write(`${JSON.stringify({ key })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
