import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readUiStream, startHarness, textOf, type Harness } from "../support/harness";

let h: Harness;
let conversations: typeof import("@/app/api/v1/conversations/route");
let one: typeof import("@/app/api/v1/conversations/[id]/route");
let messages: typeof import("@/app/api/v1/conversations/[id]/messages/route");

beforeAll(async () => {
  h = await startHarness();
  conversations = await import("@/app/api/v1/conversations/route");
  one = await import("@/app/api/v1/conversations/[id]/route");
  messages = await import("@/app/api/v1/conversations/[id]/messages/route");
});
afterAll(() => h.close());
beforeEach(() => h.mock.reset());

const modelCalls = () => h.mock.requests.filter((r) => r.path.endsWith("/responses")).length;

async function storedMessages(cookie: string, id: string) {
  const res = await call(one.GET, { cookie, params: { id } });
  return ((await res.json()) as { messages: Array<{ seq: number; role: string }> }).messages;
}

describe("Idempotency-Key", () => {
  it("replays the first response without a second message or model call", async () => {
    const { cookie } = await h.signUp();
    const { conversation } = (await (await call(conversations.POST, { cookie, body: {} })).json()) as { conversation: { id: string } };
    const send = () =>
      call(messages.POST, { cookie, params: { id: conversation.id }, body: { content: "once only" }, headers: { "idempotency-key": "k-1" } });
    const first = await send();
    const firstBody = await first.text();
    const second = await send();
    expect(second.status).toBe(first.status);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.text()).toBe(firstBody);
    expect(modelCalls()).toBe(1);
    expect((await storedMessages(cookie, conversation.id)).map((m) => m.seq)).toEqual([1, 2]);
  });

  it("answers 409 when the key is reused with a different body", async () => {
    const { cookie } = await h.signUp();
    const headers = { "idempotency-key": "create-1" };
    expect((await call(conversations.POST, { cookie, body: { title: "a" }, headers })).status).toBe(201);
    const conflict = await call(conversations.POST, { cookie, body: { title: "b" }, headers });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { code: string }).code).toBe("idempotency_key_reused");
  });

  it("is safe when two identical requests arrive at the same time", async () => {
    const { cookie } = await h.signUp();
    const { conversation } = (await (await call(conversations.POST, { cookie, body: {} })).json()) as { conversation: { id: string } };
    h.mock.settings.chunkDelayMs = 20;
    const send = () =>
      call(messages.POST, { cookie, params: { id: conversation.id }, body: { content: "race" }, headers: { "idempotency-key": "same" } });
    const [a, b] = await Promise.all([send(), send()]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(await a.text()).toBe(await b.text());
    expect(modelCalls()).toBe(1);
    expect(await storedMessages(cookie, conversation.id)).toHaveLength(2);
  });

  it("replays a streamed reply as the same stream", async () => {
    const { cookie } = await h.signUp();
    const headers = { "idempotency-key": "stream-1" };
    const body = { first_message: "stream me", stream: true };
    const first = await readUiStream(await call(conversations.POST, { cookie, body, headers }));
    const replay = await call(conversations.POST, { cookie, body, headers });
    expect(replay.headers.get("content-type")).toContain("text/event-stream");
    const second = await readUiStream(replay);
    expect(second).toEqual(first);
    expect(textOf(second)).toContain("stream me");
    expect(modelCalls()).toBe(1);
  });

  it("compares JSON bodies canonically: key order and whitespace do not make another request", async () => {
    const { cookie } = await h.signUp();
    const headers = { "idempotency-key": "canonical-1", "content-type": "application/json" };
    const first = await call(conversations.POST, { cookie, headers, rawBody: '{"title":"same","mode":"open","temperature":0.5}' });
    expect(first.status).toBe(201);
    const again = await call(conversations.POST, { cookie, headers, rawBody: '{ "temperature": 5e-1,\n  "mode": "open", "title": "same" }' });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    // Another value is another request.
    const other = await call(conversations.POST, { cookie, headers, rawBody: '{"title":"same","mode":"open","temperature":0.6}' });
    expect(other.status).toBe(409);
  });

  it("compares uploads by their fields and file bytes, not by the multipart boundary", async () => {
    const documents = await import("@/app/api/v1/documents/route");
    const { cookie } = await h.signUp();
    // What a client that picks a new boundary for every request sends.
    const upload = (boundary: string, text: string) => {
      const body = [
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n`,
        `--${boundary}--\r\n`,
      ].join("");
      return documents.POST(
        new Request("http://localhost/api/v1/documents", {
          method: "POST",
          body,
          headers: { cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "idempotency-key": "upload-1" },
        }),
      );
    };
    const first = await upload("----boundaryAAAA", "the same notes");
    expect(first.status).toBe(202);
    const retry = await upload("----boundaryBBBB1234", "the same notes");
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const firstId = ((await first.json()) as { id: string }).id;
    expect(((await retry.json()) as { id: string }).id).toBe(firstId);
    const listed = (await (await call(documents.GET, { cookie })).json()) as { data: unknown[] };
    expect(listed.data).toHaveLength(1);
    // Other bytes under the same key are another request.
    expect((await upload("----boundaryCCCC", "other notes")).status).toBe(409);
  });

  it("is scoped per user and rejects malformed keys", async () => {
    const alice = await h.signUp();
    const bob = await h.signUp();
    const headers = { "idempotency-key": "shared-name" };
    const a = await call(conversations.POST, { cookie: alice.cookie, body: { title: "x" }, headers });
    const b = await call(conversations.POST, { cookie: bob.cookie, body: { title: "x" }, headers });
    expect(b.headers.get("idempotent-replayed")).toBeNull();
    expect(((await a.json()) as { conversation: { id: string } }).conversation.id).not.toBe(
      ((await b.json()) as { conversation: { id: string } }).conversation.id,
    );
    const bad = await call(conversations.POST, { cookie: alice.cookie, body: {}, headers: { "idempotency-key": "has space" } });
    expect(bad.status).toBe(400);
  });
});
