import path from "node:path";
import { sql, type AnyColumn } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { env } from "@/lib/env";
import { openDataDir } from "./data-dir";
import * as schema from "./schema";
import { log as logger } from "@/lib/log";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction or the database itself: query helpers accept either. */
export type Executor = Parameters<Parameters<Db["transaction"]>[0]>[0] | Db;

/** The rows of a raw `db.execute(sql…)` result (node-postgres and PGlite both return `{ rows }`). */
/**
 * `column desc nulls last`: the order our descending indexes are built in (Drizzle's `.desc()` on an
 * index means DESC NULLS LAST). Plain `desc()` is DESC NULLS FIRST, which such an index cannot
 * return in order, so Postgres would read all of a user's rows and sort them before the limit.
 */
export const descNullsLast = (column: AnyColumn) => sql`${column} desc nulls last`;

export const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

/** A Postgres array literal with every element quoted, so any text is safe inside it (`…::uuid[]`, `…::text[]`). */
export function arrayLiteral(values: Array<string | number>): string {
  const element = (v: string | number) => (typeof v === "number" ? String(v) : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
  return `{${values.map(element).join(",")}}`;
}

type Handle = { db: Db; driver: "pglite" | "postgres"; close: () => Promise<void> };

// Two instances starting together both try to migrate; this lock makes the second one wait.
const MIGRATION_LOCK_KEY = 7_302_114_961;

export const migrationsFolder = path.join(process.cwd(), "drizzle");

async function openPglite(dataDir: string): Promise<Handle> {
  const [{ PGlite }, { drizzle }, { migrate }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
    import("drizzle-orm/pglite/migrator"),
  ]);
  const directory = dataDir.startsWith("memory://") ? null : await openDataDir(dataDir);
  const release = () => directory?.release();
  try {
    // pgvector ships with PGlite as a loadable extension; load it only when embeddings are on.
    const extensions = env.EMBEDDING_MODEL ? { vector: (await import("@electric-sql/pglite-pgvector")).vector } : undefined;
    const client = await PGlite.create(directory?.pgliteDir ?? dataDir, { extensions });
    directory?.secure();
    const db = drizzle(client, { schema });
    // One process owns the directory (see the lock), so no advisory lock is needed here.
    await migrate(db, { migrationsFolder }).catch(async (error: unknown) => {
      await client.close();
      throw error;
    });
    return {
      db: db as unknown as Db,
      driver: "pglite",
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

async function openPostgres(url: string): Promise<Handle> {
  const [{ default: pg }, { drizzle }, { migrate }] = await Promise.all([
    import("pg"),
    import("drizzle-orm/node-postgres"),
    import("drizzle-orm/node-postgres/migrator"),
  ]);
  const lockClient = new pg.Client({ connectionString: url });
  await lockClient.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrate(drizzle(lockClient, { schema }), { migrationsFolder });
  } finally {
    await lockClient.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await lockClient.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: env.DATABASE_POOL_MAX });
  // An idle client losing its connection must not crash the process.
  pool.on("error", (error) => logger.error({ err: error }, "postgres pool error"));
  const db = drizzle(pool, { schema });
  return { db: db as unknown as Db, driver: "postgres", close: () => pool.end() };
}

export function openDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<Handle> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.dataDir);
}

// One handle per process, kept on globalThis so dev-mode module reloads never open a second
// PGlite on the same directory.
const holder = globalThis as typeof globalThis & { __botGptDb?: Promise<Handle> };

async function start(): Promise<Handle> {
  const handle = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
  const [{ markInterruptedMessages }, { recoveryLog, textOfEvents }] = await Promise.all([
    import("./queries/messages"),
    import("@/lib/streams/log"),
  ]);
  const log = await recoveryLog(handle.db);
  const recovered = await markInterruptedMessages(handle.db, {
    workerId: env.instanceId,
    logText: async (id) => textOfEvents((await log.read(id, 0)).events),
  });
  if (recovered > 0) {
    logger.warn({ replies: recovered }, "marked replies interrupted by the last shutdown");
    (await import("@/lib/metrics")).metrics.interruptedReplies.inc(recovered);
  }
  return handle;
}

export function getHandle(): Promise<Handle> {
  if (!holder.__botGptDb) {
    holder.__botGptDb = start().catch(
      (error: unknown) => {
        holder.__botGptDb = undefined;
        throw error;
      },
    );
  }
  return holder.__botGptDb;
}

/** The database, migrated and ready. */
export async function getDb(): Promise<Db> {
  return (await getHandle()).db;
}

export async function closeDb(): Promise<void> {
  const pending = holder.__botGptDb;
  holder.__botGptDb = undefined;
  if (pending) await (await pending).close();
}
