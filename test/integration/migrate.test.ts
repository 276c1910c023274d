import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";

const serverUrl = process.env.DATABASE_URL;
const journal = JSON.parse(readFileSync("drizzle/meta/_journal.json", "utf8")) as { entries: unknown[] };
const migrationCount = journal.entries.length;

describe("migrations", () => {
  it.runIf(Boolean(serverUrl))("two instances starting at once on an empty database both come up, migrated once", async () => {
    const name = `bgpt_migrate_${randomUUID().replace(/-/g, "")}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(serverUrl!);
      url.pathname = `/${name}`;
      const { openDatabase } = await import("@/lib/db/client");
      const handles = await Promise.all([
        openDatabase({ databaseUrl: url.toString(), dataDir: "" }),
        openDatabase({ databaseUrl: url.toString(), dataDir: "" }),
      ]);
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const applied = await check.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      const tables = await check.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
      await check.end();
      await Promise.all(handles.map((h) => h.close()));
      expect(applied.rows[0].n).toBe(migrationCount);
      expect(tables.rows[0].n).toBeGreaterThanOrEqual(4);
    } finally {
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    }
  });

  it("is idempotent: opening an already-migrated embedded database again changes nothing", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { openDatabase } = await import("@/lib/db/client");
    const { sql } = await import("drizzle-orm");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-mig-"));
    try {
      for (let i = 0; i < 2; i++) {
        const handle = await openDatabase({ dataDir: dir });
        const result = await handle.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        expect((result as unknown as { rows: Array<{ n: number }> }).rows[0]?.n).toBe(migrationCount);
        await handle.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
