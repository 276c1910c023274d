import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { call, sessionCookie } from "../support/harness";
import { withDb } from "../support/db";

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-cli-admin-"));
// As in cli.test.ts: the CLI runs as its own process on PGlite in a temp directory (or the
// project's Postgres), and this process opens the same database only between CLI runs.
Object.assign(process.env, { DATA_DIR: dataDir });
const env = { ...process.env };

function cli(...args: string[]) {
  return run("npx", ["tsx", "scripts/cli.ts", ...args], { env, cwd: process.cwd(), timeout: 90_000 });
}

async function cliJson<T>(...args: string[]): Promise<T> {
  return JSON.parse((await cli(...args)).stdout) as T;
}

type CliUser = { id: string; email: string; disabled_at?: string | null };
type CliKey = { id: string; user_id: string; name: string; prefix: string; scopes: string[]; expires_at: string | null; revoked_at: string | null; key?: string };

const PASSWORD = "long enough pw";

async function createUser(): Promise<CliUser> {
  // The plural, two-word spelling: the same command as user:create.
  return cliJson<CliUser>("users", "create", "--email", `admin-${randomUUID()}@example.test`, "--password", PASSWORD);
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A browser signed in as this user now (a session row and its cookie). */
const signedIn = (user: CliUser) => withDb(() => sessionCookie(user.id));

/** What a signed-in browser, an API key and the sign-in form each get for this user right now. */
async function access(user: CliUser, key: string, cookie: string, password = PASSWORD) {
  return withDb(async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const { getAuthOptions } = await import("@/lib/auth/options");
    const { getUserFromCookieHeader } = await import("@/lib/auth/session");
    const withKey = await call(conversations.GET, { headers: bearer(key) });
    const withCookie = await call(conversations.GET, { cookie });
    const provider = (await getAuthOptions()).providers[0] as unknown as { options: { authorize: (c: Record<string, string>) => Promise<{ id: string } | null> } };
    const signIn = await provider.options.authorize({ email: user.email, password });
    return {
      key: { status: withKey.status, type: withKey.headers.get("content-type"), code: withKey.ok ? null : ((await withKey.json()) as { code: string }).code },
      cookie: { status: withCookie.status, code: withCookie.ok ? null : ((await withCookie.json()) as { code: string }).code },
      page: (await getUserFromCookieHeader(cookie))?.id ?? null,
      signIn: signIn?.id ?? null,
    };
  });
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe("admin CLI: users", () => {
  it("disables an account (no sign-in, sessions and keys refused with 403 account_disabled) and enables it again", { timeout: 180_000 }, async () => {
    const user = await createUser();
    const { key } = await cliJson<CliKey>("key:create", "--user", user.email, "--name", "ops");
    const cookie = await signedIn(user);

    expect(await access(user, key!, cookie)).toMatchObject({ key: { status: 200, code: null }, cookie: { status: 200, code: null }, page: user.id, signIn: user.id });

    const disabled = await cliJson<CliUser>("user", "disable", "--user", user.email.toUpperCase());
    expect(disabled).toMatchObject({ id: user.id, disabled_at: expect.any(String) });
    const listed = await cliJson<CliUser[]>("user:list", "--json");
    expect(listed.find((u) => u.id === user.id)).toMatchObject({ disabled_at: disabled.disabled_at });
    expect((await cli("users", "list")).stdout).toContain(`${user.email}\t\t`);

    expect(await access(user, key!, cookie)).toEqual({
      key: { status: 403, type: expect.stringContaining("application/problem+json"), code: "account_disabled" },
      cookie: { status: 403, code: "account_disabled" },
      page: null,
      signIn: null,
    });

    expect(await cliJson<CliUser>("user:enable", "--user", user.id)).toMatchObject({ id: user.id, disabled_at: null });
    // The disabling ended the session for good; the key works again and signing in starts afresh.
    expect(await access(user, key!, cookie)).toMatchObject({ key: { status: 200 }, cookie: { status: 401, code: "unauthenticated" }, page: null, signIn: user.id });
    expect(await access(user, key!, await signedIn(user))).toMatchObject({ cookie: { status: 200 }, page: user.id });
  });

  it("sets a new password and ends every session", { timeout: 180_000 }, async () => {
    const user = await createUser();
    const { key } = await cliJson<CliKey>("key:create", "--user", user.email, "--name", "ops");
    const cookie = await signedIn(user);
    expect(await access(user, key!, cookie)).toMatchObject({ cookie: { status: 200 }, signIn: user.id });

    expect(await cliJson<CliUser>("user:password", "--user", user.email, "--password", "a new long password")).toMatchObject({ id: user.id });
    // API keys are not passwords: they keep working until revoked.
    expect(await access(user, key!, cookie)).toMatchObject({ key: { status: 200 }, cookie: { status: 401 }, page: null, signIn: null });
    expect(await access(user, key!, cookie, "a new long password")).toMatchObject({ signIn: user.id });
    await expect(cli("user:password", "--user", user.email, "--password", "short")).rejects.toMatchObject({ code: 2 });
  });
});

describe("admin CLI: long output", () => {
  it("prints every user when the listing is larger than a pipe holds (nothing cut off at exit)", { timeout: 180_000 }, async () => {
    const batch = randomUUID();
    const emails = Array.from({ length: 800 }, (_, i) => `bulk-${batch}-${i}@example.test`);
    await withDb(async () => {
      const { getDb } = await import("@/lib/db/client");
      const { users } = await import("@/lib/db/schema");
      const db = await getDb();
      // Created in order, one millisecond apart, so the last one is the listing's last line.
      const base = Date.now();
      await db.insert(users).values(emails.map((email, i) => ({ email, passwordHash: "unused", createdAt: new Date(base + i) })));
    });
    const table = (await cli("users", "list")).stdout;
    expect(Buffer.byteLength(table)).toBeGreaterThan(64 * 1024);
    expect(emails.filter((email) => !table.includes(`\t${email}\t`))).toEqual([]);
    const listed = await cliJson<CliUser[]>("user:list", "--json");
    expect(emails.filter((email) => !listed.some((u) => u.email === email))).toEqual([]);
  });
});

describe("admin CLI: output", () => {
  it("keeps stdout to the JSON result while the app logs (here: a Redis it cannot reach) to stderr", { timeout: 180_000 }, async () => {
    const email = `redis-down-${randomUUID()}@example.test`;
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/cli.ts", "user:create", "--email", email, "--password", PASSWORD], {
      env: { ...env, REDIS_URL: "redis://127.0.0.1:1", LOG_LEVEL: "warn" },
      cwd: process.cwd(),
      timeout: 90_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ email });
    expect(stderr).toContain("redis");
  });
});

describe("admin CLI: API keys", () => {
  it("creates a key printed once that authenticates, lists it without the secret, and revokes it", { timeout: 180_000 }, async () => {
    const user = await createUser();
    const created = await cliJson<CliKey>("keys", "create", "--user", user.id, "--name", "ci", "--scopes", "conversations:read", "--expires-in-days", "7");
    expect(created).toMatchObject({ user_id: user.id, name: "ci", scopes: ["conversations:read"], revoked_at: null });
    expect(created.key).toMatch(/^bgpt_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(created.expires_at!) - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);

    const listed = await cli("key:list", "--user", user.email);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: created.id, prefix: created.prefix })]);
    expect(listed.stdout).not.toContain(created.key);

    const status = async () =>
      withDb(async () => {
        const conversations = await import("@/app/api/v1/conversations/route");
        const read = await call(conversations.GET, { headers: bearer(created.key!) });
        const write = await call(conversations.POST, { headers: bearer(created.key!), body: { title: "x" } });
        return { read: read.status, write: write.status, code: read.ok ? null : ((await read.json()) as { code: string }).code };
      });
    expect(await status()).toEqual({ read: 200, write: 403, code: null });

    const revoked = await cliJson<CliKey & { already_revoked: boolean }>("api-key", "revoke", "--key", created.id);
    expect(revoked).toMatchObject({ id: created.id, user_id: user.id, revoked_at: expect.any(String), already_revoked: false });
    expect(await status()).toEqual({ read: 401, write: 401, code: "invalid_api_key" });
    expect(await cliJson("key:revoke", "--key", created.id)).toMatchObject({ revoked_at: revoked.revoked_at, already_revoked: true });
    expect(JSON.parse((await cli("key:list", "--user", user.id)).stdout)).toEqual([]);

    await expect(cli("key:revoke", "--key", randomUUID())).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("no such API key") });
    await expect(cli("key:create", "--user", `nobody-${randomUUID()}@example.test`, "--name", "x")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("no such user"),
    });
  });
});

describe("admin CLI: document reindex", () => {
  it("re-chunks and re-indexes a user's documents from the stored bytes", { timeout: 180_000 }, async () => {
    const user = await createUser();
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} about lighthouses, tides and the keepers who logged them.`).join("\n\n");
    const { first, second, chunks } = await withDb(async () => {
      const { createDocument } = await import("@/lib/db/queries/documents");
      const { claimDocument } = await import("@/lib/db/queries/document-queue");
      const { ingestDocument } = await import("@/lib/retrieval/queue");
      const { getDb } = await import("@/lib/db/client");
      const { documentChunks, documents } = await import("@/lib/db/schema");
      const { eq } = await import("drizzle-orm");
      const one = await createDocument({ userId: user.id, filename: "keepers.txt", mimeType: "text/plain", bytes: Buffer.from(text) });
      const two = await createDocument({ userId: user.id, filename: `later-${randomUUID()}.txt`, mimeType: "text/plain", bytes: Buffer.from("Still waiting in the queue.") });
      // Index the first as the queue would, then lose its index: chunks gone, marked failed.
      await ingestDocument((await claimDocument({ id: one.document.id, workerId: "test-cli-admin" }))!);
      const db = await getDb();
      const [indexed] = await db.select().from(documents).where(eq(documents.id, one.document.id));
      await db.delete(documentChunks).where(eq(documentChunks.documentId, one.document.id));
      await db.update(documents).set({ status: "failed", chunkCount: 0 }).where(eq(documents.id, one.document.id));
      return { first: one.document.id, second: two.document.id, chunks: indexed!.chunkCount };
    });
    expect(chunks).toBeGreaterThan(1);

    type Report = { reindexed: Array<{ id: string; status: string; pages: number; chunks: number; by: string }>; skipped: Array<{ id: string; status: string }> };
    const report = await cliJson<Report>("documents", "reindex", "--user", user.email);
    expect(report.reindexed).toEqual([expect.objectContaining({ id: first, status: "ready", pages: 1, chunks, by: "cli" })]);
    // The second was never indexed: it is pending, already on its way.
    expect(report.skipped).toEqual([{ id: second, status: "pending", reason: expect.any(String) }]);

    const stored = await withDb(async () => {
      const { getDb } = await import("@/lib/db/client");
      const { documentChunks, documents } = await import("@/lib/db/schema");
      const { eq } = await import("drizzle-orm");
      const db = await getDb();
      const rows = await db.select({ id: documentChunks.id }).from(documentChunks).where(eq(documentChunks.documentId, first));
      const [doc] = await db.select().from(documents).where(eq(documents.id, first));
      return { rows: rows.length, status: doc?.status, workerId: doc?.workerId, error: doc?.error };
    });
    expect(stored).toEqual({ rows: chunks, status: "ready", workerId: null, error: null });

    const again = await cliJson<Report>("document:reindex", "--document", first);
    expect(again.reindexed).toEqual([expect.objectContaining({ id: first, status: "ready", chunks })]);
    await expect(cli("document:reindex", "--document", randomUUID())).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("no such document") });
  });
});

describe("admin CLI: prune", () => {
  it("deletes expired idempotency records and stream logs past their TTL, keeps fresh ones, and counts only with --dry-run", { timeout: 180_000 }, async () => {
    const user = await createUser();
    const hours = (n: number) => new Date(Date.now() - n * 3600 * 1000);
    const ids = await withDb(async () => {
      const { getDb } = await import("@/lib/db/client");
      const { idempotencyKeys, streamEvents } = await import("@/lib/db/schema");
      const { createConversation } = await import("@/lib/db/queries/conversations");
      const { appendMessage } = await import("@/lib/db/queries/messages");
      const db = await getDb();
      const record = { userId: user.id, method: "POST", path: "/api/v1/conversations", requestHash: "h", state: "done" as const };
      await db.insert(idempotencyKeys).values([
        { ...record, key: "old", createdAt: hours(25) },
        { ...record, key: "fresh", createdAt: hours(1) },
      ]);
      const conversation = await createConversation({ userId: user.id, title: "t", mode: "open", model: "openai:gpt-4o-mini", systemPrompt: null });
      const reply = () => appendMessage({ conversationId: conversation.id, userId: user.id, role: "assistant", content: "done", status: "complete" });
      const [ended, recent] = [await reply(), await reply()];
      // STREAM_LOG_TTL_SECONDS is an hour: one log closed two hours ago, one closed just now.
      await db.insert(streamEvents).values([
        { messageId: ended.id, firstId: 1, lastId: 1, chunks: ["a"], done: true, createdAt: hours(2) },
        { messageId: recent.id, firstId: 1, lastId: 1, chunks: ["b"], done: true },
      ]);
      return { ended: ended.id, recent: recent.id };
    });
    const left = () =>
      withDb(async () => {
        const { getDb } = await import("@/lib/db/client");
        const { idempotencyKeys, streamEvents } = await import("@/lib/db/schema");
        const { eq, inArray } = await import("drizzle-orm");
        const db = await getDb();
        const keys = await db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id));
        const logs = await db.select({ id: streamEvents.messageId }).from(streamEvents).where(inArray(streamEvents.messageId, [ids.ended, ids.recent]));
        return { keys: keys.map((k) => k.key).sort(), logs: logs.map((l) => l.id).sort() };
      });

    type Pruned = { dry_run: boolean; idempotency_keys: number; stream_logs: number; stream_log_store: string };
    const dry = await cliJson<Pruned>("prune", "--dry-run");
    expect(dry).toMatchObject({ dry_run: true, stream_log_store: "postgres" });
    // Other runs may share this database: at least ours are counted.
    expect(dry.idempotency_keys).toBeGreaterThanOrEqual(1);
    expect(dry.stream_logs).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual({ keys: ["fresh", "old"], logs: [ids.ended, ids.recent].sort() });

    const pruned = await cliJson<Pruned>("prune");
    expect(pruned.idempotency_keys).toBeGreaterThanOrEqual(1);
    expect(pruned.stream_logs).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual({ keys: ["fresh"], logs: [ids.recent] });
  });
});

describe("admin CLI: arguments", () => {
  it("refuses bad arguments and unknown commands with exit code 2 and a message", { timeout: 120_000 }, async () => {
    const bad: Array<[string[], RegExp]> = [
      [["user:disable"], /--user <email\|id> is required/],
      [["users", "enable", "--user", "not an email"], /--user must be an email address or a user id/],
      [["key:create", "--user", "a@example.test"], /--name is required/],
      [["key:create", "--user", "a@example.test", "--name", "x", "--scopes", "chat"], /--scopes must be a comma-separated list/],
      [["key:create", "--user", "a@example.test", "--name", "x", "--expires-in-days", "0"], /--expires-in-days must be a whole number/],
      [["key:revoke", "--key", "nope"], /--key must be an API key id/],
      [["key:revoke"], /--key <api key id> is required/],
      [["document:reindex"], /give exactly one of --document <id>, --user <email\|id> or --all/],
      [["docs", "reindex", "--all", "--document", randomUUID()], /give exactly one of/],
      [["prune", "--force"], /Unknown option '--force'/],
      [["users", "frobnicate"], /unknown command: users frobnicate/],
      [[], /usage: npm run cli/],
    ];
    // Refused before the database is opened, so these can run side by side.
    await Promise.all(
      bad.map(([args, message]) => expect(cli(...args), args.join(" ")).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(message) })),
    );
  });
});
