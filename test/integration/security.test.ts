import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

// Tests run with LOG_LEVEL=silent (vitest.config.mts); these read the logs, so they turn them all on.
vi.hoisted(() => {
  process.env.LOG_LEVEL = "debug";
});

/**
 * Two users, every route that takes an id, every method, session and API-key auth: another
 * user's objects are always 404 — never 200 or 403 — and nothing ever echoes a key or its hash.
 */

let h: Harness;
const logged: string[] = [];
let restoreLogs = () => {};

beforeAll(async () => {
  h = await startHarness();
  // The structured log lines, and anything that still goes to the console.
  restoreLogs = (await import("@/lib/log")).redirectLogs({ write: (line: string) => void logged.push(line) });
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
});
afterAll(async () => {
  restoreLogs();
  vi.restoreAllMocks();
  await h.close();
});

type Principal = { label: string; auth: { cookie?: string; headers?: Record<string, string> } };

async function makeUser() {
  const { cookie, user } = await h.signUp();
  const keys = await import("@/app/api/v1/api-keys/route");
  const created = await call(keys.POST, {
    cookie,
    body: { name: "all", scopes: ["conversations:read", "conversations:write", "documents:read", "documents:write"] },
  });
  const { key, id: keyId } = (await created.json()) as { key: string; id: string };
  const conversations = await import("@/app/api/v1/conversations/route");
  const res = await call(conversations.POST, { cookie, body: { first_message: "private" } });
  const { conversation, messages } = (await res.json()) as { conversation: { id: string }; messages: Array<{ id: string }> };
  return {
    user,
    key,
    keyId,
    conversationId: conversation.id,
    userMessageId: messages[0]!.id,
    assistantMessageId: messages[1]!.id,
    principals: [
      { label: "session", auth: { cookie } },
      { label: "api key", auth: { headers: { authorization: `Bearer ${key}` } } },
    ] as Principal[],
  };
}

describe("cross-user access matrix", () => {
  it("answers 404 for every id-bearing route and method, with session and key auth", { timeout: 120_000 }, async () => {
    const alice = await makeUser();
    const bob = await makeUser();
    const one = await import("@/app/api/v1/conversations/[id]/route");
    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const feedback = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/feedback/route");
    const key = await import("@/app/api/v1/api-keys/[id]/route");
    const regenerate = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
    const edit = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/edit/route");
    const completions = await import("@/app/api/v1/chat/completions/route");

    const aliceConversation = { id: alice.conversationId };
    const cases: Array<{ name: string; keyStatus?: number; run: (a: Principal["auth"]) => Promise<Response> }> = [
      { name: "GET conversation", run: (a: Principal["auth"]) => call(one.GET, { ...a, params: aliceConversation }) },
      { name: "PATCH conversation", run: (a: Principal["auth"]) => call(one.PATCH, { ...a, params: aliceConversation, body: { title: "pwned" } }) },
      { name: "DELETE conversation", run: (a: Principal["auth"]) => call(one.DELETE, { ...a, params: aliceConversation, method: "DELETE" }) },
      { name: "GET messages", run: (a: Principal["auth"]) => call(messages.GET, { ...a, params: aliceConversation }) },
      { name: "POST message", run: (a: Principal["auth"]) => call(messages.POST, { ...a, params: aliceConversation, body: { content: "hi" } }) },
      {
        name: "POST feedback on alice's conversation",
        run: (a: Principal["auth"]) => call(feedback.POST, { ...a, params: { ...aliceConversation, message_id: alice.assistantMessageId }, body: { rating: "down" } }),
      },
      {
        name: "POST feedback on alice's message through bob's conversation",
        run: (a: Principal["auth"]) => call(feedback.POST, { ...a, params: { id: bob.conversationId, message_id: alice.assistantMessageId }, body: { rating: "down" } }),
      },
      {
        name: "DELETE feedback on alice's message through bob's conversation",
        run: (a: Principal["auth"]) => call(feedback.DELETE, { ...a, params: { id: bob.conversationId, message_id: alice.assistantMessageId }, method: "DELETE" }),
      },
      {
        name: "regenerate alice's reply",
        run: (a: Principal["auth"]) => call(regenerate.POST, { ...a, params: { ...aliceConversation, message_id: alice.assistantMessageId }, body: {} }),
      },
      {
        name: "regenerate alice's reply through bob's conversation",
        run: (a: Principal["auth"]) => call(regenerate.POST, { ...a, params: { id: bob.conversationId, message_id: alice.assistantMessageId }, body: {} }),
      },
      {
        name: "edit alice's message",
        run: (a: Principal["auth"]) => call(edit.POST, { ...a, params: { ...aliceConversation, message_id: alice.userMessageId }, body: { content: "pwned" } }),
      },
      {
        name: "edit alice's message through bob's conversation",
        run: (a: Principal["auth"]) => call(edit.POST, { ...a, params: { id: bob.conversationId, message_id: alice.userMessageId }, body: { content: "pwned" } }),
      },
      // With a key this is 403 session_required whatever the id: it reveals nothing either way.
      { name: "DELETE alice's API key", keyStatus: 403, run: (a: Principal["auth"]) => call(key.DELETE, { ...a, params: { id: alice.keyId }, method: "DELETE" }) },
      {
        name: "stream a continuation of alice's conversation over the OpenAI-compatible API",
        run: (a: Principal["auth"]) =>
          call(completions.POST, { ...a, body: { model: "openai:gpt-4o-mini", stream: true, messages: [{ role: "user", content: "x" }], conversation_id: alice.conversationId } }),
      },
      {
        name: "continue alice's conversation over the OpenAI-compatible API",
        run: (a: Principal["auth"]) =>
          call(completions.POST, { ...a, body: { model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "x" }], conversation_id: alice.conversationId } }),
      },
    ];
    for (const principal of bob.principals) {
      for (const c of cases) {
        const res = await c.run(principal.auth);
        expect(res.status, `${c.name} as bob (${principal.label})`).toBe(principal.label === "api key" ? (c.keyStatus ?? 404) : 404);
        const body = await res.text();
        expect(body).not.toContain(alice.key);
      }
    }
    // Alice's things are untouched and still hers.
    for (const principal of alice.principals) {
      const res = await call(one.GET, { ...principal.auth, params: aliceConversation });
      expect(res.status).toBe(200);
      const { conversation, messages: stored } = (await res.json()) as { conversation: { title: string }; messages: unknown[] };
      expect(conversation.title).toBe("private");
      expect(stored).toHaveLength(2);
    }
    const aliceKeyStillWorks = await call(one.GET, { headers: { authorization: `Bearer ${alice.key}` }, params: aliceConversation });
    expect(aliceKeyStillWorks.status).toBe(200);
  });

  it("never puts a key or its hash in a response or a log line", async () => {
    const alice = await makeUser();
    const { hashApiKey } = await import("@/lib/auth/api-key-token");
    const keys = await import("@/app/api/v1/api-keys/route");
    const conversations = await import("@/app/api/v1/conversations/route");
    const hash = hashApiKey(alice.key);
    const bodies: string[] = [];
    for (const principal of alice.principals) {
      bodies.push(await (await call(keys.GET, principal.auth)).text());
      bodies.push(await (await call(conversations.GET, principal.auth)).text());
      bodies.push(await (await call(conversations.POST, { ...principal.auth, rawBody: "{oops", headers: { ...principal.auth.headers, "content-type": "application/json" } })).text());
    }
    const revoked = await import("@/app/api/v1/api-keys/[id]/route");
    await call(revoked.DELETE, { cookie: alice.principals[0]!.auth.cookie, params: { id: alice.keyId }, method: "DELETE" });
    bodies.push(await (await call(conversations.GET, alice.principals[1]!.auth)).text());
    for (const text of [...bodies, ...logged]) {
      expect(text).not.toContain(alice.key);
      expect(text).not.toContain(hash);
    }
  });
});
