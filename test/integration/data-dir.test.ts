import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it, vi } from "vitest";

// Tests run with LOG_LEVEL=silent (vitest.config.mts); one of these reads the start-up warning.
vi.hoisted(() => {
  process.env.LOG_LEVEL = "warn";
});

/**
 * Issue 17 item 9: the embedded database's files (password hashes, the generated session secret)
 * are private to the server's user — DATA_DIR 0700, everything the server creates in it 0700/0600,
 * loose modes left by older versions tightened at start — and a DATA_DIR the operator opened up is
 * reported, not silently changed.
 */

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-perm-"));
  made.push(dir);
  return dir;
}

/** Every path under `root` (itself excluded) with its permission bits, symlinks not followed. */
function modes(root: string): Map<string, { mode: number; dir: boolean }> {
  const found = new Map<string, { mode: number; dir: boolean }>();
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at)) {
      const full = path.join(at, entry);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) continue;
      found.set(path.relative(root, full), { mode: stat.mode & 0o777, dir: stat.isDirectory() });
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(root);
  return found;
}

const loose = (found: Map<string, { mode: number; dir: boolean }>) =>
  [...found].filter(([, { mode, dir }]) => mode !== (dir ? 0o700 : 0o600)).map(([name, { mode }]) => `${name} ${mode.toString(8)}`);

/** Opens the database, writes rows (so Postgres creates files of its own), and closes it. */
async function useDatabase(dataDir: string): Promise<void> {
  const { openDatabase } = await import("@/lib/db/client");
  const handle = await openDatabase({ dataDir });
  try {
    await handle.db.execute(sql`create table if not exists perm_probe (id serial primary key, body text)`);
    await handle.db.execute(sql`insert into perm_probe (body) select repeat('x', 500) from generate_series(1, 2000)`);
    await handle.db.execute(sql`checkpoint`);
  } finally {
    await handle.close();
  }
}

describe.runIf(!process.env.DATABASE_URL)("the embedded database's files", () => {
  it("are private on a fresh data directory: 0700 directories, 0600 files, throughout", async () => {
    const dataDir = path.join(tempDir(), "data");
    await useDatabase(dataDir);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const found = modes(dataDir);
    expect(found.size).toBeGreaterThan(100);
    expect(found.get("bot-gpt.lock")?.mode).toBe(0o600);
    expect(loose(found)).toEqual([]);
  });

  it("left loose by an older version are tightened at start, and a DATA_DIR opened on purpose is reported, not changed", async () => {
    const dataDir = path.join(tempDir(), "data");
    await useDatabase(dataDir);
    // What earlier versions left: 0755 directories, 0666 files, and an operator's group-readable DATA_DIR.
    const loosen = (at: string) => {
      for (const entry of fs.readdirSync(at)) {
        const full = path.join(at, entry);
        const dir = fs.statSync(full).isDirectory();
        fs.chmodSync(full, dir ? 0o755 : 0o666);
        if (dir) loosen(full);
      }
    };
    loosen(dataDir);
    fs.chmodSync(dataDir, 0o750);
    // Something else the operator keeps there, and a link out of it: neither is the server's to change.
    const outside = path.join(tempDir(), "elsewhere.txt");
    fs.writeFileSync(outside, "not ours", { mode: 0o644 });
    fs.chmodSync(outside, 0o644);
    fs.writeFileSync(path.join(dataDir, "README.operator"), "notes");
    fs.chmodSync(path.join(dataDir, "README.operator"), 0o644);
    fs.symlinkSync(outside, path.join(dataDir, "pglite", "link-out"));

    const lines: string[] = [];
    const { redirectLogs } = await import("@/lib/log");
    const restore = redirectLogs(new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }) as never);
    try {
      await useDatabase(dataDir);
    } finally {
      restore();
    }
    const found = modes(path.join(dataDir, "pglite"));
    expect(loose(found)).toEqual([]);
    expect(fs.statSync(path.join(dataDir, "bot-gpt.lock")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o750);
    expect(fs.statSync(outside).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(dataDir, "README.operator")).mode & 0o777).toBe(0o644);
    const warning = lines.map((line) => JSON.parse(line) as { event?: string; mode?: string; msg?: string }).find((l) => l.event === "data_dir_permissions");
    expect(warning?.mode).toBe("0750");
    expect(warning?.msg).toContain(`chmod 700 ${dataDir}`);
  });
});

describe("the pid check used where the OS lock is unavailable", () => {
  it("counts a killed process that is not yet reaped (a zombie) as gone, and a live one as running", async () => {
    const { isRunning } = await import("@/lib/db/data-dir");
    // The background `sleep` ends after the shell has exec-ed `sleep 30`, which never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0.5 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()))));
      await expect.poll(() => fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "), { timeout: 5_000 }).toBe(true);
      expect(isRunning(pid)).toBe(false);
      expect(isRunning(parent.pid!)).toBe(true);
      expect(isRunning(process.pid)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
