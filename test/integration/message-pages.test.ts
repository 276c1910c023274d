import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let list: typeof import("@/app/api/v1/conversations/route");
let messages: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let one: typeof import("@/app/api/v1/conversations/[id]/route");

beforeAll(async () => {
  h = await startHarness();
  list = await import("@/app/api/v1/conversations/route");
  messages = await import("@/app/api/v1/conversations/[id]/messages/route");
  one = await import("@/app/api/v1/conversations/[id]/route");
});
afterAll(() => h.close());

type Page = { data: Array<{ seq: number }>; next_cursor: string | null };

async function page(cookie: string, id: string, query: string): Promise<Page> {
  const res = await call(messages.GET, { cookie, params: { id }, path: `/m?${query}` });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("message pages", () => {
  it("pages back from the newest message with order=desc, and forward by default", async () => {
    const { cookie } = await h.signUp();
    const created = await call(list.POST, { cookie, body: { first_message: "one" } });
    const { conversation } = (await created.json()) as { conversation: { id: string } };
    for (const content of ["two", "three"]) {
      expect((await call(messages.POST, { cookie, params: { id: conversation.id }, body: { content } })).status).toBe(201);
    }

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const current: Page = await page(cookie, conversation.id, `order=desc&limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...current.data.map((m) => m.seq));
      cursor = current.next_cursor;
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1]);

    const forward = await page(cookie, conversation.id, "limit=4");
    expect(forward.data.map((m) => m.seq)).toEqual([1, 2, 3, 4]);

    // A cursor continues only the order it was issued for.
    const newest = await page(cookie, conversation.id, "order=desc&limit=2");
    const mixed = await call(messages.GET, { cookie, params: { id: conversation.id }, path: `/m?cursor=${newest.next_cursor}` });
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as { code: string }).code).toBe("invalid_cursor");
    const backwards = await call(messages.GET, { cookie, params: { id: conversation.id }, path: `/m?order=desc&cursor=${forward.next_cursor}` });
    expect(backwards.status).toBe(400);

    const bad = await call(messages.GET, { cookie, params: { id: conversation.id }, path: "/m?order=sideways" });
    expect(bad.status).toBe(422);

    // The conversation with only its newest messages, still in order.
    const newestTwo = await call(one.GET, { cookie, params: { id: conversation.id }, path: "/c?message_limit=2" });
    expect(((await newestTwo.json()) as { messages: Array<{ seq: number }> }).messages.map((m) => m.seq)).toEqual([5, 6]);
    const whole = await call(one.GET, { cookie, params: { id: conversation.id } });
    expect(((await whole.json()) as { messages: unknown[] }).messages).toHaveLength(6);
    expect((await call(one.GET, { cookie, params: { id: conversation.id }, path: "/c?message_limit=0" })).status).toBe(422);
  });
});
