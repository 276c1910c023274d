import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let keys: typeof import("@/app/api/v1/api-keys/route");
let key: typeof import("@/app/api/v1/api-keys/[id]/route");
let conversations: typeof import("@/app/api/v1/conversations/route");
let models: typeof import("@/app/api/v1/models/route");

beforeAll(async () => {
  h = await startHarness();
  keys = await import("@/app/api/v1/api-keys/route");
  key = await import("@/app/api/v1/api-keys/[id]/route");
  conversations = await import("@/app/api/v1/conversations/route");
  models = await import("@/app/api/v1/models/route");
});
afterAll(() => h.close());

type Created = { id: string; name: string; scopes: string[]; key: string; prefix: string; expires_at: string | null };

async function createKey(cookie: string, body: Record<string, unknown>) {
  const res = await call(keys.POST, { cookie, body });
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe("API keys", () => {
  it("creates a key shown once, stores only a hash, and authenticates with it", async () => {
    const { cookie, user } = await h.signUp();
    const created = await createKey(cookie, { name: "CI bot", scopes: ["conversations:read", "conversations:write"] });
    expect(created.key).toMatch(/^bgpt_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const { getDb } = await import("@/lib/db/client");
    const { apiKeys } = await import("@/lib/db/schema");
    const { eq } = await import("drizzle-orm");
    const [row] = await (await getDb()).select().from(apiKeys).where(eq(apiKeys.userId, user.id));
    expect(row?.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key);

    const listed = await call(keys.GET, { cookie });
    const list = (await listed.json()) as { data: Array<Record<string, unknown>> };
    expect(list.data).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(JSON.stringify(list)).not.toContain(row!.keyHash);
    expect(list.data[0]).toMatchObject({ id: created.id, name: "CI bot", last_used_at: null });

    const res = await call(conversations.POST, { headers: bearer(created.key), body: { title: "from a key" } });
    expect(res.status).toBe(201);
    const after = (await (await call(keys.GET, { cookie })).json()) as { data: Array<{ last_used_at: string | null }> };
    expect(after.data[0]?.last_used_at).not.toBeNull();
  });

  it("enforces scopes with 403 naming the missing one", async () => {
    const { cookie } = await h.signUp();
    const readOnly = await createKey(cookie, { name: "reader", scopes: ["conversations:read"] });
    expect((await call(conversations.GET, { headers: bearer(readOnly.key) })).status).toBe(200);
    const denied = await call(conversations.POST, { headers: bearer(readOnly.key), body: {} });
    expect(denied.status).toBe(403);
    const problem = (await denied.json()) as { code: string; detail: string; required_scope: string };
    expect(problem).toMatchObject({ code: "insufficient_scope", required_scope: "conversations:write" });
    expect(problem.detail).toContain("conversations:write");
    expect((await call(models.GET, { headers: bearer(readOnly.key) })).status).toBe(200);
  });

  it("keys cannot create, list or revoke keys", async () => {
    const { cookie } = await h.signUp();
    const created = await createKey(cookie, { name: "k", scopes: ["conversations:read", "conversations:write", "documents:read", "documents:write"] });
    const attempts = [
      await call(keys.POST, { headers: bearer(created.key), body: { name: "child", scopes: ["conversations:read"] } }),
      await call(keys.GET, { headers: bearer(created.key) }),
      await call(key.DELETE, { headers: bearer(created.key), params: { id: created.id }, method: "DELETE" }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("session_required");
    }
    expect((await call(conversations.GET, { headers: bearer(created.key) })).status).toBe(200);
  });

  it("never stores a new key for idempotent replay", async () => {
    const { cookie, user } = await h.signUp();
    const res = await call(keys.POST, { cookie, body: { name: "once", scopes: ["conversations:read"] }, headers: { "idempotency-key": "key-create" } });
    const { key: secret } = (await res.json()) as { key: string };
    const { getDb } = await import("@/lib/db/client");
    const { idempotencyKeys } = await import("@/lib/db/schema");
    const { eq } = await import("drizzle-orm");
    const rows = await (await getDb()).select().from(idempotencyKeys).where(eq(idempotencyKeys.userId, user.id));
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(rows).toEqual([]);
  });

  it("revoked and expired keys answer 401; malformed and unknown keys too", async () => {
    const { cookie } = await h.signUp();
    const created = await createKey(cookie, { name: "short-lived", scopes: ["conversations:read"] });
    expect((await call(key.DELETE, { cookie, params: { id: created.id }, method: "DELETE" })).status).toBe(204);
    const revoked = await call(conversations.GET, { headers: bearer(created.key) });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { code: string }).code).toBe("invalid_api_key");
    expect((await call(key.DELETE, { cookie, params: { id: created.id }, method: "DELETE" })).status).toBe(404);

    const expiring = await createKey(cookie, { name: "expiring", scopes: ["conversations:read"], expires_at: new Date(Date.now() + 1_500).toISOString() });
    expect((await call(conversations.GET, { headers: bearer(expiring.key) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect((await call(conversations.GET, { headers: bearer(expiring.key) })).status).toBe(401);

    for (const header of ["Bearer nope", "Bearer bgpt_" + "x".repeat(43), "Basic abc", "Bearer"]) {
      const res = await call(conversations.GET, { headers: { authorization: header } });
      expect(res.status).toBe(401);
    }
  });

  it("validates creation input and another user's key is 404 to revoke", async () => {
    const owner = await h.signUp();
    const stranger = await h.signUp();
    expect((await call(keys.POST, { cookie: owner.cookie, body: { name: "x", scopes: ["admin"] } })).status).toBe(422);
    expect((await call(keys.POST, { cookie: owner.cookie, body: { name: "x", scopes: [] } })).status).toBe(422);
    expect((await call(keys.POST, { cookie: owner.cookie, body: { name: "x", scopes: ["conversations:read"], expires_at: "2001-01-01T00:00:00Z" } })).status).toBe(422);
    const created = await createKey(owner.cookie, { name: "mine", scopes: ["conversations:read"] });
    expect((await call(key.DELETE, { cookie: stranger.cookie, params: { id: created.id }, method: "DELETE" })).status).toBe(404);
    expect((await call(conversations.GET, { headers: bearer(created.key) })).status).toBe(200);
  });
});
