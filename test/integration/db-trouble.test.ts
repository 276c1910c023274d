import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * Database trouble during a turn, made real with triggers that fail writes of marked rows (the
 * marker keeps them away from other test files sharing the Postgres database).
 */

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let db: import("@/lib/db/client").Db;

beforeAll(async () => {
  h = await startHarness({ OPENAI_API: "chat" });
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  db = await (await import("@/lib/db/client")).getDb();
  await db.execute(sql`create table if not exists test_write_faults (kind text primary key, remaining int not null)`);
  // Sequences are not transactional: a failed write still counts, though its transaction rolls back.
  await db.execute(sql`create sequence if not exists test_write_faults_insert`);
  await db.execute(sql`create sequence if not exists test_write_faults_update`);
  await db.execute(sql`
    create or replace function test_fail_marked_writes() returns trigger language plpgsql as $$
    begin
      if position('db-trouble-marker' in new.content) > 0
        and nextval('test_write_faults_' || lower(tg_op)) <= coalesce((select remaining from test_write_faults where kind = tg_op), 0) then
        raise exception 'simulated database failure';
      end if;
      return new;
    end $$`);
  await db.execute(sql`drop trigger if exists test_fail_marked_writes on messages`);
  await db.execute(sql`create trigger test_fail_marked_writes before insert or update on messages for each row execute function test_fail_marked_writes()`);
});
afterAll(async () => {
  await db.execute(sql`drop trigger if exists test_fail_marked_writes on messages`);
  await h.close();
});
beforeEach(() => h.mock.reset());

async function failNext(op: "INSERT" | "UPDATE", times: number) {
  await db.execute(sql`insert into test_write_faults (kind, remaining) values (${op}, ${times}) on conflict (kind) do update set remaining = excluded.remaining`);
  await db.execute(sql.raw(`alter sequence test_write_faults_${op.toLowerCase()} restart with 1`));
}

async function newConversation(cookie: string) {
  const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
  return ((await res.json()) as { conversation: { id: string } }).conversation.id;
}

describe("database trouble", () => {
  it("a user message that cannot be saved gets 503 and the model is not called", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    await failNext("INSERT", 1);
    const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "db-trouble-marker: save me" } });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "service_unavailable" });
    expect(h.mock.requests).toHaveLength(0);
    const stored = (await (await call(conversationRoute.GET, { cookie, params: { id } })).json()) as { messages: unknown[] };
    expect(stored.messages).toHaveLength(0);
  });

  it("a reply whose final write fails is written again with backoff and nothing is lost", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    // The final write carries the reply text (the mock echoes the marker): fail it twice.
    await failNext("UPDATE", 2);
    const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "db-trouble-marker: answer me" } });
    expect(res.status, await res.clone().text()).toBe(201);
    const stored = (await (await call(conversationRoute.GET, { cookie, params: { id } })).json()) as { messages: Array<{ status: string; content: string }> };
    expect(stored.messages.map((m) => m.status)).toEqual(["complete", "complete"]);
    expect(stored.messages[1]!.content).toContain("db-trouble-marker: answer me");
    // Two failed attempts and the one that succeeded (plus partial-text flushes, if any).
    const result = (await db.execute(sql`select last_value from test_write_faults_update`)) as unknown as { rows: Array<{ last_value: string }> };
    expect(Number(result.rows[0]?.last_value)).toBeGreaterThanOrEqual(3);
  });
});

describe("database trouble while streaming", () => {
  it("a user message that cannot be saved is a 503 problem, not a stream that fails", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    await failNext("INSERT", 1);
    const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "db-trouble-marker: stream me", stream: true } });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(h.mock.requests).toHaveLength(0);
  });
});
