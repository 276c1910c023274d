import { closeDb, getHandle } from "@/lib/db/client";

/** `npm run db:migrate`: applies pending migrations (the server also does this at start-up). */
async function main() {
  const { driver } = await getHandle();
  console.log(`migrations applied (${driver})`);
  await closeDb();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
