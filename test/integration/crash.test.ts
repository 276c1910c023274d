import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness";

let h: Harness;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-crash-"));
const usesPostgres = Boolean(process.env.DATABASE_URL);

beforeAll(async () => {
  h = await startHarness();
  h.mock.settings.reply = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
  h.mock.settings.chunkDelayMs = 40;
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const childEnv = () => ({ ...process.env, INSTANCE_ID: "crash-test-instance", DATA_DIR: usesPostgres ? process.env.DATA_DIR : dataDir });

function runUntil(child: ReturnType<typeof spawn>, marker: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buffer = "";
    child.stdout?.on("data", (data: Buffer) => {
      buffer += data.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
      if (parts.includes(marker)) resolve(lines);
    });
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before ${marker}: ${lines.join("\n")}`)));
  });
}

describe("a crash mid-stream", () => {
  it("leaves a row that the next start-up marks interrupted, with the text flushed so far", async () => {
    // node --import tsx: the child's pid is the process that holds the database, nothing in between.
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/crash-child.ts"], { env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
    const lines = await runUntil(child, "DELTA");
    const { messageId } = JSON.parse(lines.find((l) => l.startsWith("{")) ?? "{}") as { messageId: string };
    // Long enough for at least one partial flush, far shorter than the whole reply.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    process.kill(child.pid!, "SIGKILL");
    await exited;

    // Start-up of the same instance (db:migrate opens the database the way the server does).
    const restart = spawn(process.execPath, ["--import", "tsx", "scripts/migrate.ts"], { env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
    expect(await new Promise((resolve) => restart.on("exit", resolve))).toBe(0);

    const { openDatabase } = await import("@/lib/db/client");
    const { messages } = await import("@/lib/db/schema");
    const { eq } = await import("drizzle-orm");
    const handle = usesPostgres ? await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: "" }) : await openDatabase({ dataDir });
    try {
      const [row] = await handle.db.select().from(messages).where(eq(messages.id, messageId));
      expect(row?.status).toBe("interrupted");
      expect(row?.content).toMatch(/^word0 word1 word2/);
      expect(row?.content).not.toContain("word199");
    } finally {
      await handle.close();
    }
  }, 60_000);
});
