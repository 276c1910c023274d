import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("message seq", () => {
  it("stays gap-free and unique under concurrent appends to one conversation", async () => {
    const { appendMessage, listAllMessages } = await import("@/lib/db/queries/messages");
    const { createConversation } = await import("@/lib/db/queries/conversations");
    const { user } = await h.signUp();
    const conversation = await createConversation({ userId: user.id, title: "race", mode: "open", model: "offline:bot-gpt-offline", systemPrompt: null });

    const writers = 40;
    const rows = await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        appendMessage({ conversationId: conversation.id, userId: user.id, role: i % 2 ? "assistant" : "user", content: `m${i}` }),
      ),
    );
    expect(new Set(rows.map((r) => r.seq)).size).toBe(writers);
    const stored = await listAllMessages({ conversationId: conversation.id });
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
  });

  it("keeps numbering gap-free across concurrent turns posted over the API", async () => {
    const { cookie } = await h.signUp();
    const route = await import("@/app/api/v1/conversations/route");
    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const { call } = await import("../support/harness");
    const created = await call(route.POST, { cookie, body: {} });
    const { conversation } = (await created.json()) as { conversation: { id: string } };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call(messages.POST, { cookie, params: { id: conversation.id }, body: { content: `q${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    const page = await call(messages.GET, { cookie, params: { id: conversation.id }, path: "/x?limit=100" });
    const seqs = ((await page.json()) as { data: Array<{ seq: number }> }).data.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it("rejects appends to another user's conversation without consuming a number", async () => {
    const { appendMessage, listAllMessages } = await import("@/lib/db/queries/messages");
    const { createConversation } = await import("@/lib/db/queries/conversations");
    const owner = await h.signUp();
    const stranger = await h.signUp();
    const conversation = await createConversation({ userId: owner.user.id, title: "t", mode: "open", model: "offline:bot-gpt-offline", systemPrompt: null });
    await expect(
      appendMessage({ conversationId: conversation.id, userId: stranger.user.id, role: "user", content: "x" }),
    ).rejects.toMatchObject({ code: "conversation_not_found" });
    await appendMessage({ conversationId: conversation.id, userId: owner.user.id, role: "user", content: "y" });
    expect((await listAllMessages({ conversationId: conversation.id })).map((m) => m.seq)).toEqual([1]);
  });
});
