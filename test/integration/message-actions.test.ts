import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readSseEvents, readUiStream, startHarness, textOf, type Harness } from "../support/harness";

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let regenerateRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
let editRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/edit/route");
let feedbackRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/feedback/route");
let stopRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
let usageRoute: typeof import("@/app/api/v1/usage/route");

beforeAll(async () => {
  h = await startHarness();
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  regenerateRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
  editRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/edit/route");
  feedbackRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/feedback/route");
  stopRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
  usageRoute = await import("@/app/api/v1/usage/route");
});
afterAll(() => h.close());
beforeEach(async () => {
  h.mock.reset();
  (await import("@/lib/ai/resilience")).resetBreakers();
});

type Message = {
  id: string;
  seq: number;
  role: string;
  content: string;
  status: string;
  cost_usd: number | null;
  feedback: { rating: string; comment: string | null } | null;
};
type Conversation = { id: string; message_count: number; total_tokens: number; total_cost_usd: number; summary: string | null; summary_through_seq: number | null };
type Turn = { user_message: Message; assistant_message: Message };

/** A conversation with `turns` complete exchanges ("message 1", "message 2", …). */
async function chatWith(cookie: string, turns: number) {
  const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { conversation: { id: string } }).conversation.id;
  for (let n = 1; n <= turns; n++) {
    const turn = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: `message ${n}` } });
    expect(turn.status).toBe(201);
  }
  return id;
}

async function conversationOf(cookie: string, id: string) {
  const res = await call(conversationRoute.GET, { cookie, params: { id } });
  expect(res.status).toBe(200);
  return (await res.json()) as { conversation: Conversation; messages: Message[] };
}

const regenerate = (cookie: string, id: string, messageId: string, body: unknown = {}, headers?: Record<string, string>) =>
  call(regenerateRoute.POST, { cookie, params: { id, message_id: messageId }, body, headers });
const edit = (cookie: string, id: string, messageId: string, body: unknown, headers?: Record<string, string>) =>
  call(editRoute.POST, { cookie, params: { id, message_id: messageId }, body, headers });

async function chatUsage(cookie: string) {
  const res = await call(usageRoute.GET, { cookie, path: "/api/v1/usage?group_by=model" });
  expect(res.status).toBe(200);
  return ((await res.json()) as { by_kind: { chat: { requests: number; cost_usd: number } } }).by_kind.chat;
}

describe("regenerate", () => {
  it("replaces the last reply at the same seq; the old reply's cost stays in the ledger and the totals", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 2);
    const before = await conversationOf(cookie, id);
    const old = before.messages.at(-1)!;
    const spentBefore = await chatUsage(cookie);
    expect(spentBefore.requests).toBe(2);

    const res = await regenerate(cookie, id, old.id);
    expect(res.status).toBe(201);
    const turn = (await res.json()) as Turn;
    expect(turn.user_message.id).toBe(before.messages[2]!.id);
    expect(turn.assistant_message.id).not.toBe(old.id);
    expect(turn.assistant_message).toMatchObject({ seq: 4, role: "assistant", status: "complete", content: 'Mock reply: you said "message 2". This answer streams in several chunks.' });

    const after = await conversationOf(cookie, id);
    expect(after.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(after.messages.map((m) => m.id)).toEqual([...before.messages.slice(0, 3).map((m) => m.id), turn.assistant_message.id]);
    expect(after.conversation.message_count).toBe(4);
    // The replaced reply was paid for: it stays counted.
    const spent = await chatUsage(cookie);
    expect(spent.requests).toBe(3);
    expect(spent.cost_usd).toBeCloseTo(spentBefore.cost_usd + Number(turn.assistant_message.cost_usd), 8);
    expect(after.conversation.total_cost_usd).toBeCloseTo(before.conversation.total_cost_usd + Number(turn.assistant_message.cost_usd), 8);
    expect(after.conversation.total_tokens).toBeGreaterThan(before.conversation.total_tokens);
    // The model saw the history up to the user message, not the replaced reply.
    const sent = JSON.stringify(h.mock.requests.at(-1)?.body);
    expect(sent).toContain("message 2");
    expect(sent.match(/Mock reply/g)).toHaveLength(1);
  });

  it("streams with the same start and finish parts as a new message", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 1);
    const { messages } = await conversationOf(cookie, id);
    const res = await regenerate(cookie, id, messages[1]!.id, { stream: true });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    const chunks = await readUiStream(res);
    const start = chunks[0] as { type: string; messageMetadata: Record<string, string> };
    expect(start.type).toBe("start");
    expect(start.messageMetadata).toMatchObject({ conversation_id: id, user_message_id: messages[0]!.id });
    expect(start.messageMetadata.assistant_message_id).not.toBe(messages[1]!.id);
    expect(textOf(chunks)).toContain('you said "message 1"');
    expect(chunks.at(-1)).toMatchObject({ type: "finish", messageMetadata: { status: "complete", model: "openai:gpt-4o-mini" } });
    const after = await conversationOf(cookie, id);
    expect(after.messages.map((m) => [m.seq, m.id])).toEqual([
      [1, messages[0]!.id],
      [2, start.messageMetadata.assistant_message_id],
    ]);
  });

  it("is refused for an earlier reply (409), a user message (422), unknown fields (422) and someone else's conversation (404)", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 2);
    const { messages } = await conversationOf(cookie, id);

    const earlier = await regenerate(cookie, id, messages[1]!.id);
    expect(earlier.status).toBe(409);
    expect(earlier.headers.get("content-type")).toBe("application/problem+json");
    expect(await earlier.json()).toMatchObject({ code: "not_last_reply" });

    const user = await regenerate(cookie, id, messages[2]!.id);
    expect(user.status).toBe(422);
    expect(await user.json()).toMatchObject({ code: "validation_failed", errors: [{ path: "message_id" }] });

    const unknown = await regenerate(cookie, id, messages[3]!.id, { stream: false, temperature: 1 });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ errors: [{ path: "temperature", message: "Unknown field" }] });

    const missing = await regenerate(cookie, id, crypto.randomUUID());
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "message_not_found" });

    const other = await h.signUp("Someone Else");
    const foreign = await regenerate(other.cookie, id, messages[3]!.id);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ code: "conversation_not_found" });

    // Nothing changed.
    expect((await conversationOf(cookie, id)).messages.map((m) => m.id)).toEqual(messages.map((m) => m.id));
  });

  it("is refused with 409 reply_in_progress while the reply is still streaming", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 0);
    h.mock.settings.chunkDelayMs = 150;
    const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "slowly please", stream: true } });
    let replyId = "";
    const reading = readSseEvents(res, (event) => {
      if (event.chunk.type === "start") replyId = String((event.chunk.messageMetadata as Record<string, string>).assistant_message_id);
    });
    await expect.poll(() => replyId).not.toBe("");

    const busy = await regenerate(cookie, id, replyId);
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ code: "reply_in_progress", message_id: replyId });
    const { messages } = await conversationOf(cookie, id);
    const editing = await edit(cookie, id, messages[0]!.id, { content: "faster" });
    expect(editing.status).toBe(409);
    expect(await editing.json()).toMatchObject({ code: "reply_in_progress" });

    expect((await call(stopRoute.POST, { cookie, params: { id, message_id: replyId }, method: "POST" })).status).toBe(200);
    await reading;
    // A stopped reply can be regenerated.
    h.mock.settings.chunkDelayMs = 0;
    expect((await regenerate(cookie, id, replyId)).status).toBe(201);
  });

  it("refuses an edit while a question waits for its reply row, not once that question is old", async () => {
    const { cookie, user } = await h.signUp();
    const id = await chatWith(cookie, 1);
    // A turn between its two writes: its question is saved, its reply row not yet.
    const { appendMessage } = await import("@/lib/db/queries/messages");
    const pending = await appendMessage({ conversationId: id, userId: user.id, role: "user", content: "just asked", tokens: { count: 2, family: "o200k" } });
    const { messages } = await conversationOf(cookie, id);
    const editing = await edit(cookie, id, messages[0]!.id, { content: "changed" });
    expect(editing.status).toBe(409);
    expect(await editing.json()).toMatchObject({ code: "reply_in_progress", message_id: pending.id });
    // Nor may the waiting question itself be changed (or answered twice).
    expect((await edit(cookie, id, pending.id, { content: "changed" })).status).toBe(409);

    // A question whose reply never started (minutes ago) does not block editing for ever.
    const { getDb } = await import("@/lib/db/client");
    const { conversations: table } = await import("@/lib/db/schema");
    const { eq } = await import("drizzle-orm");
    await (await getDb()).update(table).set({ activityAt: new Date(Date.now() - 5 * 60_000) }).where(eq(table.id, id));
    const later = await edit(cookie, id, messages[0]!.id, { content: "changed" });
    expect(later.status).toBe(201);
    expect((await conversationOf(cookie, id)).messages.map((m) => m.content)).not.toContain("just asked");
  });

  it("replays the first response for a repeated Idempotency-Key instead of generating again", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 1);
    const { messages } = await conversationOf(cookie, id);
    const headers = { "idempotency-key": crypto.randomUUID() };
    const first = (await (await regenerate(cookie, id, messages[1]!.id, {}, headers)).json()) as Turn;
    const again = await regenerate(cookie, id, messages[1]!.id, {}, headers);
    expect(again.status).toBe(201);
    expect(((await again.json()) as Turn).assistant_message.id).toBe(first.assistant_message.id);
    expect((await chatUsage(cookie)).requests).toBe(2);
  });
});

describe("edit", () => {
  it("rewrites message 1 of a 3-turn conversation: 2 messages left, the new reply answers the new text, the summary is dropped", async () => {
    const { cookie, user } = await h.signUp();
    const id = await chatWith(cookie, 3);
    const { saveSummary } = await import("@/lib/db/queries/conversations");
    await saveSummary({ conversationId: id, userId: user.id, summary: "They talked about messages 1 and 2.", throughSeq: 2, tokens: 9, usage: null });
    const before = await conversationOf(cookie, id);
    expect(before.conversation.summary_through_seq).toBe(2);
    const first = before.messages[0]!;

    const res = await edit(cookie, id, first.id, { content: "a better first message" });
    expect(res.status).toBe(201);
    const turn = (await res.json()) as Turn;
    expect(turn.user_message).toMatchObject({ id: first.id, seq: 1, content: "a better first message" });
    expect(turn.assistant_message).toMatchObject({ seq: 2, status: "complete", content: 'Mock reply: you said "a better first message". This answer streams in several chunks.' });

    const after = await conversationOf(cookie, id);
    expect(after.messages.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, "user", "a better first message"],
      [2, "assistant", turn.assistant_message.content],
    ]);
    expect(after.conversation).toMatchObject({ message_count: 2, summary: null, summary_through_seq: null });
    // Three replies and the new one were all paid for.
    expect((await chatUsage(cookie)).requests).toBe(4);
    expect(after.conversation.total_cost_usd).toBeGreaterThan(before.conversation.total_cost_usd);
    // The model was sent only the edited message.
    const sent = JSON.stringify(h.mock.requests.at(-1)?.body);
    expect(sent).toContain("a better first message");
    expect(sent).not.toContain("message 2");

    // The conversation goes on from there, gap-free.
    const next = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "and then" } });
    expect(((await next.json()) as Turn).assistant_message.seq).toBe(4);
  });

  it("keeps a summary that ends before the edited message; streams when asked", async () => {
    const { cookie, user } = await h.signUp();
    const id = await chatWith(cookie, 3);
    const { saveSummary } = await import("@/lib/db/queries/conversations");
    await saveSummary({ conversationId: id, userId: user.id, summary: "Messages 1 and 2.", throughSeq: 2, tokens: 4, usage: null });
    const { messages } = await conversationOf(cookie, id);

    const res = await edit(cookie, id, messages[4]!.id, { content: "third, reworded", stream: true });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const chunks = await readUiStream(res);
    expect(chunks[0]).toMatchObject({ type: "start", messageMetadata: { user_message_id: messages[4]!.id } });
    expect(textOf(chunks)).toContain('you said "third, reworded"');
    expect(chunks.at(-1)).toMatchObject({ type: "finish" });

    const after = await conversationOf(cookie, id);
    expect(after.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(after.messages[4]!.content).toBe("third, reworded");
    expect(after.conversation).toMatchObject({ summary: "Messages 1 and 2.", summary_through_seq: 2 });
  });

  it("a summary being written while an earlier message is edited is not stored; its cost still counts", async () => {
    const { cookie, user } = await h.signUp();
    const id = await chatWith(cookie, 2);
    const before = await conversationOf(cookie, id);
    const { scheduleSummary, settleSummaries } = await import("@/lib/chat/summarize");
    // The summarizer reads messages 1-4, then its model call is held back while message 1 is edited.
    h.mock.pushFault({ type: "slow-first-byte", delayMs: 1_500 });
    scheduleSummary({ conversation: { id }, userId: user.id, apiKeyId: null, throughSeq: 4 });
    const isSummaryCall = (r: { body: Record<string, unknown> }) => JSON.stringify(r.body).includes("running summary of a conversation");
    for (let i = 0; i < 100 && !h.mock.requests.some(isSummaryCall); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.mock.requests.some(isSummaryCall)).toBe(true);

    const res = await edit(cookie, id, before.messages[0]!.id, { content: "a different first message" });
    expect(res.status).toBe(201);
    await settleSummaries();

    const after = await conversationOf(cookie, id);
    expect(after.messages.map((m) => m.content)).toEqual(["a different first message", expect.stringContaining("a different first message")]);
    // A summary "through message 4" of the old text would stand in for the new messages 1-4.
    expect(after.conversation).toMatchObject({ summary: null, summary_through_seq: null });
    const usage = await call(usageRoute.GET, { cookie, path: "/api/v1/usage?group_by=model" });
    expect(((await usage.json()) as { by_kind: { summary: { requests: number } } }).by_kind.summary.requests).toBe(1);
  });

  it("validates like POST …/messages and only edits user messages", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 1);
    const { messages } = await conversationOf(cookie, id);
    const reply = await edit(cookie, id, messages[1]!.id, { content: "not mine to edit" });
    expect(reply.status).toBe(422);
    expect(await reply.json()).toMatchObject({ errors: [{ path: "message_id" }] });
    const blank = await edit(cookie, id, messages[0]!.id, { content: "   " });
    expect(blank.status).toBe(422);
    const unknown = await edit(cookie, id, messages[0]!.id, { content: "ok", role: "assistant" });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ errors: [{ path: "role", message: "Unknown field" }] });
    const other = await h.signUp("Someone Else");
    expect((await edit(other.cookie, id, messages[0]!.id, { content: "hijack" })).status).toBe(404);
    expect((await conversationOf(cookie, id)).messages.map((m) => m.content)).toEqual(messages.map((m) => m.content));
  });
});

describe("feedback on the message object", () => {
  it("shows the caller's rating, replaces it, clears it with DELETE", async () => {
    const { cookie } = await h.signUp();
    const id = await chatWith(cookie, 1);
    const reply = (await conversationOf(cookie, id)).messages[1]!;
    expect(reply.feedback).toBeNull();
    const params = { id, message_id: reply.id };

    expect((await call(feedbackRoute.POST, { cookie, params, body: { rating: "up" } })).status).toBe(200);
    expect((await conversationOf(cookie, id)).messages[1]!.feedback).toEqual({ rating: "up", comment: null });
    await call(feedbackRoute.POST, { cookie, params, body: { rating: "down", comment: "wrong year" } });
    expect((await conversationOf(cookie, id)).messages[1]!.feedback).toEqual({ rating: "down", comment: "wrong year" });
    const page = await call(messagesRoute.GET, { cookie, params: { id } });
    expect(((await page.json()) as { data: Message[] }).data[1]!.feedback).toMatchObject({ rating: "down" });

    expect((await call(feedbackRoute.DELETE, { cookie, params, method: "DELETE" })).status).toBe(204);
    expect((await conversationOf(cookie, id)).messages[1]!.feedback).toBeNull();
    expect((await call(feedbackRoute.DELETE, { cookie, params, method: "DELETE" })).status).toBe(204);
    const other = await h.signUp("Someone Else");
    expect((await call(feedbackRoute.DELETE, { cookie: other.cookie, params, method: "DELETE" })).status).toBe(404);
  });
});
