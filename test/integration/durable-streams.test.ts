import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { call, readSseEvents, startHarness, type Harness } from "../support/harness";
import { serveRoutes, startBufferingProxy } from "../support/http";
import { textOfEvents } from "../support/sse";

/**
 * Durable, resumable reply streams: a reply outlives its reader, every event has an id, a reader
 * reconnecting with Last-Event-ID gets exactly the rest — from this process's memory or, as
 * another instance would, through the stream log (Postgres, or Redis) — and a stop reaches the
 * process generating the reply.
 */

let h: Harness;
let conversationsRoute: typeof import("@/app/api/v1/conversations/route");
let conversationRoute: typeof import("@/app/api/v1/conversations/[id]/route");
let messagesRoute: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let streamRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/stream/route");
let stopRoute: typeof import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");

const LONG_REPLY = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

beforeAll(async () => {
  h = await startHarness({ STREAM_HEARTBEAT_MS: "100" });
  conversationsRoute = await import("@/app/api/v1/conversations/route");
  conversationRoute = await import("@/app/api/v1/conversations/[id]/route");
  messagesRoute = await import("@/app/api/v1/conversations/[id]/messages/route");
  streamRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stream/route");
  stopRoute = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
});
afterAll(() => h.close());
beforeEach(async () => {
  h.mock.reset();
  (await import("@/lib/ai/resilience")).resetBreakers();
});

async function newConversation(cookie: string) {
  const res = await call(conversationsRoute.POST, { cookie, body: { model: "openai:gpt-4o-mini" } });
  return ((await res.json()) as { conversation: { id: string } }).conversation.id;
}

async function assistantRow(cookie: string, id: string) {
  const res = await call(conversationRoute.GET, { cookie, params: { id } });
  const body = (await res.json()) as { messages: Array<{ id: string; role: string; status: string; content: string }> };
  return body.messages.find((m) => m.role === "assistant")!;
}

const text = textOfEvents;

/** Starts a slow streamed reply and disconnects after `deltas` text deltas. */
async function startAndDisconnect(cookie: string, id: string, deltas: number, chunkDelayMs = 15) {
  h.mock.settings.reply = LONG_REPLY;
  h.mock.settings.chunkDelayMs = chunkDelayMs;
  const res = await call(messagesRoute.POST, { cookie, params: { id }, body: { content: "tell me everything", stream: true } });
  expect(res.status).toBe(201);
  let seen = 0;
  const first = await readSseEvents(res, (e) => !(e.chunk.type === "text-delta" && ++seen === deltas));
  const assistantId = (first.events[0]!.chunk.messageMetadata as { assistant_message_id: string }).assistant_message_id;
  return { first, assistantId };
}

function resume(cookie: string, id: string, messageId: string, lastEventId?: number) {
  return call(streamRoute.GET, {
    cookie,
    params: { id, message_id: messageId },
    headers: lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) },
  });
}

describe("durable reply streams", () => {
  it("numbers every event and resumes after Last-Event-ID with no duplicate and no gap", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { first, assistantId } = await startAndDisconnect(cookie, id, 5);
    const ids = first.events.map((e) => e.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const lastSeen = ids.at(-1)!;

    const res = await resume(cookie, id, assistantId, lastSeen);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const rest = await readSseEvents(res);
    expect(rest.done).toBe(true);
    expect(rest.events[0]!.id).toBe(lastSeen + 1);
    const all = [...first.events, ...rest.events];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(text(all)).toBe(LONG_REPLY);
    expect(rest.events.at(-1)!.chunk).toMatchObject({ type: "finish", messageMetadata: { status: "complete" } });
    expect((await assistantRow(cookie, id)).content).toBe(LONG_REPLY);
  });

  it("a reader reconnecting through the log (as on another instance) gets the rest exactly", async () => {
    const { resumeReply } = await import("@/lib/chat/resume");
    const { getMessage } = await import("@/lib/db/queries/messages");
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { first, assistantId } = await startAndDisconnect(cookie, id, 3);
    const lastSeen = first.events.at(-1)!.id!;
    // Give the log a moment to receive the first batches, then follow it while the reply is live.
    await new Promise((resolve) => setTimeout(resolve, 120));
    const rest = await readSseEvents(await resumeReply((await getMessage({ id: assistantId, conversationId: id }))!, lastSeen, { local: false }));
    expect(rest.done).toBe(true);
    const all = [...first.events, ...rest.events];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(text(all)).toBe(LONG_REPLY);
    expect(rest.events.at(-1)!.chunk.type).toBe("finish");
  });

  it("replays a finished reply from its log, and from the stored row once the log is gone", async () => {
    const { getDb } = await import("@/lib/db/client");
    const { streamEvents } = await import("@/lib/db/schema");
    const { eq } = await import("drizzle-orm");
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { assistantId } = await startAndDisconnect(cookie, id, 2);
    await expect.poll(async () => (await assistantRow(cookie, id)).status, { timeout: 10_000 }).toBe("complete");

    const whole = await readSseEvents(await resume(cookie, id, assistantId));
    expect(whole.events[0]!.chunk).toMatchObject({ type: "start", messageId: assistantId });
    expect(text(whole.events)).toBe(LONG_REPLY);

    await expect.poll(async () => (await (await getDb()).select().from(streamEvents).where(eq(streamEvents.messageId, assistantId))).length).toBeGreaterThan(0);
    await (await getDb()).delete(streamEvents).where(eq(streamEvents.messageId, assistantId));
    const replayed = await readSseEvents(await resume(cookie, id, assistantId));
    expect(replayed.events.map((e) => e.chunk.type)).toEqual(["start", "text-start", "text-delta", "text-end", "finish"]);
    expect(text(replayed.events)).toBe(LONG_REPLY);

    const expired = await resume(cookie, id, assistantId, 4);
    expect(expired.status).toBe(410);
    expect(await expired.json()).toMatchObject({ code: "stream_expired" });
  });

  it("refuses a bad Last-Event-ID, a user message, and another user's reply", async () => {
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { assistantId } = await startAndDisconnect(cookie, id, 1);
    const bad = await resume(cookie, id, assistantId, -1 as number);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_last_event_id" });

    const res = await call(conversationRoute.GET, { cookie, params: { id } });
    const userMessage = ((await res.json()) as { messages: Array<{ id: string; role: string }> }).messages.find((m) => m.role === "user")!;
    const notReply = await resume(cookie, id, userMessage.id);
    expect(notReply.status).toBe(404);
    expect(await notReply.json()).toMatchObject({ code: "stream_not_found" });

    const other = await h.signUp();
    expect((await resume(other.cookie, id, assistantId)).status).toBe(404);
    expect((await call(stopRoute.POST, { cookie: other.cookie, params: { id, message_id: assistantId }, method: "POST" })).status).toBe(404);
  });

  it("a stop sent to another instance (the database flag) reaches the process generating the reply", async () => {
    const { stopReply } = await import("@/lib/chat/resume");
    const { getMessage } = await import("@/lib/db/queries/messages");
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { first, assistantId } = await startAndDisconnect(cookie, id, 2, 60);
    expect(first.events.length).toBeGreaterThan(0);
    // As the stop route on an instance without the run does it: flag the row, wait for the writer.
    const stopped = await stopReply((await getMessage({ id: assistantId, conversationId: id }))!, { local: false });
    expect(stopped.settled).toBe(true);
    expect(stopped.message.status).toBe("aborted");
    expect(stopped.message.content.length).toBeGreaterThan(0);
    expect(stopped.message.content).not.toBe(LONG_REPLY);
    expect((await assistantRow(cookie, id)).status).toBe("aborted");
    await expect.poll(() => h.mock.closedEarly).toBe(1);
  });

  it("start-up recovery takes a crashed reply's partial text from the stream log", async () => {
    const { getDb } = await import("@/lib/db/client");
    const { appendMessage, getMessage, markInterruptedMessages } = await import("@/lib/db/queries/messages");
    const { recoveryLog, textOfEvents } = await import("@/lib/streams/log");
    const { user, cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const reply = await appendMessage({ conversationId: id, userId: user.id, role: "assistant", content: "Hello", status: "streaming", workerId: "crashed:1" });
    const log = await recoveryLog(await getDb());
    const chunk = (delta: string) => JSON.stringify({ type: "text-delta", id: "t", delta });
    await log.append(reply.id, [{ id: 1, chunk: JSON.stringify({ type: "text-start", id: "t" }) }, { id: 2, chunk: chunk("Hello") }, { id: 3, chunk: chunk(", world") }], { done: false, nextId: 4 });

    const recovered = await markInterruptedMessages(await getDb(), { workerId: "crashed:1", logText: async (m) => textOfEvents((await log.read(m, 0)).events) });
    expect(recovered).toBe(1);
    expect(await getMessage({ id: reply.id, conversationId: id })).toMatchObject({ status: "interrupted", content: "Hello, world" });

    // A reader following that log learns how it ended instead of waiting forever.
    const { resumeReply } = await import("@/lib/chat/resume");
    const rest = await readSseEvents(await resumeReply((await getMessage({ id: reply.id, conversationId: id }))!, 3, { local: false }));
    expect(rest.events.map((e) => e.chunk.type)).toEqual(["text-end", "data-problem", "error"]);
    expect(rest.events.map((e) => e.id)).toEqual([4, 5, 6]);
  }, 15_000);

  it("while running, a reply nobody has touched for a minute is recovered; live and recent ones are not", async () => {
    const { getDb } = await import("@/lib/db/client");
    const { appendMessage, getMessage, markInterruptedMessages } = await import("@/lib/db/queries/messages");
    const { messages } = await import("@/lib/db/schema");
    const { env } = await import("@/lib/env");
    const { inArray } = await import("drizzle-orm");
    const { user, cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const add = (content: string, workerId: string) =>
      appendMessage({ conversationId: id, userId: user.id, role: "assistant", content, status: "streaming", workerId });
    const orphan = await add("half", env.instanceId); // ours, its final write failed
    const dead = await add("other half", "gone-instance:1"); // an instance that never came back
    const live = await add("still going", env.instanceId);
    const fresh = await add("just started", "other-instance:1");
    const db = await getDb();
    await db.update(messages).set({ updatedAt: new Date(Date.now() - 120_000) }).where(inArray(messages.id, [orphan.id, dead.id, live.id]));

    const recovered = await markInterruptedMessages(db, { workerId: env.instanceId, running: [live.id] });
    expect(recovered).toBe(2);
    const status = async (m: { id: string }) => (await getMessage({ id: m.id, conversationId: id }))?.status;
    expect(await status(orphan)).toBe("interrupted");
    expect(await status(dead)).toBe("interrupted");
    expect(await status(live)).toBe("streaming");
    expect(await status(fresh)).toBe("streaming");
    await db.update(messages).set({ status: "aborted" }).where(inArray(messages.id, [live.id, fresh.id]));
  });

  it("a reader following a reply whose writer died is told so once the row goes quiet", async () => {
    const { getDb } = await import("@/lib/db/client");
    const { appendMessage, getMessage } = await import("@/lib/db/queries/messages");
    const { messages } = await import("@/lib/db/schema");
    const { getStreamLog } = await import("@/lib/streams/log");
    const { resumeReply } = await import("@/lib/chat/resume");
    const { eq } = await import("drizzle-orm");
    const { user, cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const reply = await appendMessage({ conversationId: id, userId: user.id, role: "assistant", content: "", status: "streaming", workerId: "dead:1" });
    const log = await getStreamLog();
    await log.append(reply.id, [{ id: 1, chunk: JSON.stringify({ type: "text-start", id: "t" }) }, { id: 2, chunk: JSON.stringify({ type: "text-delta", id: "t", delta: "Partial" }) }], { done: false, nextId: 3 });
    await (await getDb()).update(messages).set({ updatedAt: new Date(Date.now() - 45_000) }).where(eq(messages.id, reply.id));
    const read = await readSseEvents(await resumeReply((await getMessage({ id: reply.id, conversationId: id }))!, 0, { local: false }));
    expect(text(read.events)).toBe("Partial");
    expect(read.events.map((e) => e.chunk.type)).toEqual(["text-start", "text-delta", "text-end", "data-problem", "error"]);
    expect(read.done).toBe(true);
  }, 15_000);

  it("streams through a buffering reverse proxy: events arrive as they happen, heartbeats keep it open", async () => {
    const server = await serveRoutes([
      { method: "POST", pattern: /^\/api\/v1\/conversations\/([^/]+)\/messages$/, params: ["id"], handler: messagesRoute.POST },
    ]);
    // The proxy drops a response that is silent for 400 ms; the model's first token takes 1.2 s.
    const proxy = await startBufferingProxy(server.url, 400);
    try {
      const { cookie } = await h.signUp();
      const id = await newConversation(cookie);
      h.mock.settings.reply = LONG_REPLY;
      h.mock.settings.ttftMs = 1_200;
      h.mock.settings.chunkDelayMs = 20;
      const started = Date.now();
      const res = await fetch(`${proxy.url}/api/v1/conversations/${id}/messages`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ content: "through the proxy", stream: true }),
      });
      expect(res.status).toBe(201);
      let firstDeltaAt = 0;
      const read = await readSseEvents(res, (e) => {
        if (e.chunk.type === "text-delta" && !firstDeltaAt) firstDeltaAt = Date.now() - started;
      });
      const total = Date.now() - started;
      expect(read.done).toBe(true);
      expect(read.heartbeats).toBeGreaterThanOrEqual(5);
      expect(text(read.events)).toBe(LONG_REPLY);
      // Not held back until the end: 60 words at 20 ms each come after the first one.
      expect(total - firstDeltaAt).toBeGreaterThan(600);
    } finally {
      await proxy.close();
      await server.close();
    }
  }, 20_000);
});

describe("durable reply streams with Redis (REDIS_URL)", () => {
  let previous: string | undefined;
  beforeAll(async () => {
    const { env } = await import("@/lib/env");
    const { closeRedis } = await import("@/lib/redis");
    const { resetStreamLog } = await import("@/lib/streams/log");
    previous = env.REDIS_URL;
    await closeRedis();
    env.REDIS_URL = redisUrl;
    resetStreamLog();
  });
  afterAll(async () => {
    const { env } = await import("@/lib/env");
    const { closeRedis } = await import("@/lib/redis");
    const { resetStreamLog } = await import("@/lib/streams/log");
    await closeRedis();
    env.REDIS_URL = previous;
    resetStreamLog();
  });

  it("the log lives in Redis and a reader elsewhere resumes from it exactly", async () => {
    const { getStreamLog } = await import("@/lib/streams/log");
    const { resumeReply } = await import("@/lib/chat/resume");
    const { getMessage } = await import("@/lib/db/queries/messages");
    expect((await getStreamLog()).kind).toBe("redis");
    const { cookie } = await h.signUp();
    const id = await newConversation(cookie);
    const { first, assistantId } = await startAndDisconnect(cookie, id, 4);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const rest = await readSseEvents(await resumeReply((await getMessage({ id: assistantId, conversationId: id }))!, first.events.at(-1)!.id!, { local: false }));
    const all = [...first.events, ...rest.events];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(text(all)).toBe(LONG_REPLY);

    const { Redis } = await import("ioredis");
    const redis = new Redis(redisUrl);
    try {
      await expect.poll(async () => (await redis.xrange(`botgpt:stream:${assistantId}`, "-", "+")).at(-1)?.[1][0]).toBe("done");
      // Closed: kept for the resume window only (an open log would get a day more).
      const ttl = await redis.ttl(`botgpt:stream:${assistantId}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_600);
    } finally {
      redis.disconnect();
    }
  });
});
