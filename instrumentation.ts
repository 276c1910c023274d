/**
 * Runs once when a server process starts: migrate, recover replies a crash left streaming, and
 * resume document ingestion that was pending or cut off.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getHandle } = await import("./lib/db/client");
  await getHandle();
  const { kickIngestion } = await import("./lib/retrieval/queue");
  void kickIngestion();
}
