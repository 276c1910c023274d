import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

// Tests run with LOG_LEVEL=silent (vitest.config.mts); these read the logs, so they turn them all on.
vi.hoisted(() => {
  process.env.LOG_LEVEL = "debug";
});

/**
 * Runs real route handlers with secrets and message text in them, captures every log line written
 * meanwhile, and checks that none of the secrets or text reached the logs — and that the lines
 * people rely on (request, model_call, ingestion) were written, so the search is not vacuous.
 */

const PASSWORD = "Pa55word-LOGCHECK-7f3a9";
const MESSAGE_MARKER = "ZEBRA-MARKER-c41d2e";
const DOCUMENT_MARKER = "QUOKKA-MARKER-9b8e11";

let h: Harness;
const captured: string[] = [];
let restore = () => {};

beforeAll(async () => {
  h = await startHarness();
  const { redirectLogs } = await import("@/lib/log");
  restore = redirectLogs({ write: (line: string) => void captured.push(line) });
});
afterAll(async () => {
  restore();
  await h.close();
});

const lines = () => captured.map((line) => JSON.parse(line) as Record<string, unknown>);

describe("logs", () => {
  it("carry request, model_call and ingestion lines without passwords, keys, cookies or message text", async () => {
    const signUp = await import("@/app/api/auth/sign-up/route");
    const keys = await import("@/app/api/v1/api-keys/route");
    const conversations = await import("@/app/api/v1/conversations/route");
    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const documents = await import("@/app/api/v1/documents/route");
    const { kickIngestion } = await import("@/lib/retrieval/queue");

    const email = `log-${crypto.randomUUID()}@example.test`;
    const signed = await call(signUp.POST, { body: { email, password: PASSWORD, name: "Log Check" } });
    expect(signed.status).toBe(202);

    const { cookie } = await h.signUp();
    const created = await call(keys.POST, { cookie, body: { name: "logs", scopes: ["conversations:read", "conversations:write", "documents:read", "documents:write"] } });
    expect(created.status).toBe(201);
    const { key, id: keyId } = (await created.json()) as { key: string; id: string };
    const bearer = { authorization: `Bearer ${key}` };

    const conversation = await call(conversations.POST, { headers: bearer, body: { model: "openai:gpt-4o-mini" } });
    expect(conversation.status).toBe(201);
    const conversationId = ((await conversation.json()) as { conversation: { id: string } }).conversation.id;
    const requestId = "log-test-request-1";
    const reply = await call(messages.POST, {
      headers: { ...bearer, "x-request-id": requestId },
      path: `/api/v1/conversations/${conversationId}/messages`,
      params: { id: conversationId },
      body: { content: `Please repeat ${MESSAGE_MARKER}`, stream: false },
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.get("x-request-id")).toBe(requestId);
    // The reply itself echoes the marker (the mock LLM repeats the prompt): it must not be logged either.
    expect(await reply.text()).toContain(MESSAGE_MARKER);

    const form = new FormData();
    form.set("file", new File([`Notes about ${DOCUMENT_MARKER}.\n`], "notes.txt", { type: "text/plain" }));
    const uploaded = await documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), {
      params: Promise.resolve({}),
    });
    expect(uploaded.status).toBe(202);
    await kickIngestion();

    const missing = await call(conversations.GET, { path: "/api/v1/conversations", headers: { authorization: "Bearer bgpt_not-a-real-key-0000000000" } });
    const problem = (await missing.json()) as { request_id?: string; code: string };
    expect(problem.request_id).toBe(missing.headers.get("x-request-id"));

    const text = captured.join("");
    for (const secret of [PASSWORD, key, cookie.split("=")[1]!, MESSAGE_MARKER, DOCUMENT_MARKER, "bgpt_not-a-real-key"]) {
      expect(text).not.toContain(secret);
    }

    const all = lines();
    expect(all.find((l) => l.msg === "request" && l.request_id === requestId)).toMatchObject({
      method: "POST",
      route: "/api/v1/conversations/{id}/messages",
      status: 201,
      api_key_id: keyId,
      user: expect.stringMatching(/^[0-9a-f]{16}$/),
      duration_ms: expect.any(Number),
    });
    // Lines written earlier in the request do not leak their fields into later ones.
    expect(all.find((l) => l.msg === "request" && l.request_id === requestId)).not.toHaveProperty("provider");
    expect(all.find((l) => l.msg === "request" && l.status === 401)).toMatchObject({ code: "invalid_api_key", route: "/api/v1/conversations" });
    expect(all.find((l) => l.msg === "model_call" && l.request_id === requestId)).toMatchObject({
      kind: "chat",
      provider: "openai",
      model: "openai:gpt-4o-mini",
      outcome: "ok",
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
      retries: 0,
      fallback: false,
      breaker: "closed",
      conversation_id: conversationId,
    });
    const model = all.find((l) => l.msg === "model_call" && l.request_id === requestId)!;
    expect(model.output_tokens).toBeGreaterThan(0);
    expect(all.filter((l) => l.msg === "ingestion").map((l) => l.event)).toEqual(expect.arrayContaining(["started", "ready"]));
  });
});
