/** Runs once when a server process starts: migrate, then recover replies a crash left streaming. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getHandle } = await import("./lib/db/client");
  await getHandle();
}
