import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-cli-"));
// The CLI runs as its own process: PGlite in a temp directory, or the project's Postgres.
const env = { ...process.env, DATA_DIR: dataDir };

function cli(...args: string[]) {
  return run("npx", ["tsx", "scripts/cli.ts", ...args], { env, cwd: process.cwd(), timeout: 60_000 });
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe("admin CLI", () => {
  it("creates users, refuses duplicates and bad input, and lists them", async () => {
    const email = `cli-${randomUUID()}@Example.test`;
    const created = await cli("user:create", "--email", email, "--password", "long enough pw", "--name", "Ada");
    const user = JSON.parse(created.stdout) as { id: string; email: string; name: string };
    expect(user).toMatchObject({ email: email.toLowerCase(), name: "Ada" });

    await expect(cli("user:create", "--email", email, "--password", "long enough pw")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("already exists"),
    });
    await expect(cli("user:create", "--email", "nope", "--password", "short")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--email must be an email address[\s\S]*--password must be at least 8/),
    });

    const listed = await cli("user:list", "--json");
    const users = JSON.parse(listed.stdout) as Array<{ id: string }>;
    expect(users.map((u) => u.id)).toContain(user.id);
  });
});

describe("embedded database lock", () => {
  it.runIf(!process.env.DATABASE_URL)("refuses a second process on the same PGlite directory, with a clear message", async () => {
    const { openDatabase } = await import("@/lib/db/client");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-lock-"));
    const handle = await openDatabase({ dataDir: dir });
    try {
      await expect(
        run("npx", ["tsx", "scripts/cli.ts", "user:list"], { env: { ...process.env, DATA_DIR: dir }, timeout: 60_000 }),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`is in use by process ${process.pid}`) });
    } finally {
      await handle.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
