import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * A cursor continues only the list it came from, for the user it was issued to: another user's
 * cursor, one from another list or another conversation, or an edited one is 400 invalid_cursor.
 */

let h: Harness;
let conversations: typeof import("@/app/api/v1/conversations/route");
let messages: typeof import("@/app/api/v1/conversations/[id]/messages/route");
let documents: typeof import("@/app/api/v1/documents/route");

beforeAll(async () => {
  h = await startHarness();
  conversations = await import("@/app/api/v1/conversations/route");
  messages = await import("@/app/api/v1/conversations/[id]/messages/route");
  documents = await import("@/app/api/v1/documents/route");
});
afterAll(() => h.close());

type Page = { next_cursor: string | null };

async function upload(cookie: string, name: string) {
  const form = new FormData();
  form.set("file", new File([new TextEncoder().encode(`Notes in ${name}.`)], name, { type: "text/plain" }));
  const response = await documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), {
    params: Promise.resolve({}),
  });
  expect(response.status).toBe(202);
}

/** A user with two conversations of three messages' worth and two documents: every list pages. */
async function userWithLists() {
  const { cookie } = await h.signUp();
  const ids: string[] = [];
  for (const first_message of ["one", "two"]) {
    const created = await call(conversations.POST, { cookie, body: { first_message } });
    ids.push(((await created.json()) as { conversation: { id: string } }).conversation.id);
  }
  await upload(cookie, "a.txt");
  await upload(cookie, "b.txt");
  const next = async (handler: typeof conversations.GET, path: string, params: Record<string, string> = {}) => {
    const response = await call(handler, { cookie, path, params });
    expect(response.status).toBe(200);
    const cursor = ((await response.json()) as Page).next_cursor;
    expect(cursor).not.toBeNull();
    return cursor!;
  };
  return {
    cookie,
    conversationIds: ids,
    cursors: {
      conversations: await next(conversations.GET, "/c?limit=1"),
      documents: await next(documents.GET, "/d?limit=1"),
      messages: await next(messages.GET, "/m?limit=1", { id: ids[0]! }),
    },
  };
}

async function codeOf(response: Response): Promise<string | null> {
  return response.ok ? null : ((await response.json()) as { code: string }).code;
}

describe("cursors", () => {
  it("work for their own user and list only", { timeout: 90_000 }, async () => {
    const ada = await userWithLists();
    const bob = await userWithLists();
    const onConversations = (cookie: string, cursor: string) => call(conversations.GET, { cookie, path: `/c?limit=1&cursor=${cursor}` });
    const onDocuments = (cookie: string, cursor: string) => call(documents.GET, { cookie, path: `/d?limit=1&cursor=${cursor}` });
    const onMessages = (cookie: string, id: string, cursor: string) => call(messages.GET, { cookie, params: { id }, path: `/m?limit=1&cursor=${cursor}` });

    // Their own: the next page.
    expect((await onConversations(ada.cookie, ada.cursors.conversations)).status).toBe(200);
    expect((await onDocuments(ada.cookie, ada.cursors.documents)).status).toBe(200);
    expect((await onMessages(ada.cookie, ada.conversationIds[0]!, ada.cursors.messages)).status).toBe(200);

    // Another user's, on the same list.
    expect(await codeOf(await onConversations(bob.cookie, ada.cursors.conversations))).toBe("invalid_cursor");
    expect(await codeOf(await onDocuments(bob.cookie, ada.cursors.documents))).toBe("invalid_cursor");
    expect(await codeOf(await onMessages(bob.cookie, bob.conversationIds[0]!, ada.cursors.messages))).toBe("invalid_cursor");
    // The same user's, from another list (conversations and documents share a cursor shape).
    expect(await codeOf(await onDocuments(ada.cookie, ada.cursors.conversations))).toBe("invalid_cursor");
    expect(await codeOf(await onConversations(ada.cookie, ada.cursors.documents))).toBe("invalid_cursor");
    expect(await codeOf(await onMessages(ada.cookie, ada.conversationIds[1]!, ada.cursors.messages))).toBe("invalid_cursor");

    // An edited one: its position changed, its signature not.
    const [payload, tag] = ada.cursors.messages.split(".");
    const moved = Buffer.from(JSON.stringify({ seq: 0 })).toString("base64url");
    expect(payload).not.toBe(moved);
    expect(await codeOf(await onMessages(ada.cookie, ada.conversationIds[0]!, `${moved}.${tag}`))).toBe("invalid_cursor");
  });
});
