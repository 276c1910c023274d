/** Runs `fn` on this process's handle to the database, closed again so a CLI child process can open it next. */
export async function withDb<T>(fn: () => Promise<T>): Promise<T> {
  const { closeDb } = await import("@/lib/db/client");
  try {
    return await fn();
  } finally {
    await closeDb();
  }
}
