import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

/**
 * What a key without the documents scopes gets of its owner's documents: citations (snippets) in
 * replies of conversations the owner grounded, and nothing else — it cannot attach a document by
 * id and have the model read it out.
 */

let h: Harness;
let keys: typeof import("@/app/api/v1/api-keys/route");
let documents: typeof import("@/app/api/v1/documents/route");
let document: typeof import("@/app/api/v1/documents/[id]/route");
let content: typeof import("@/app/api/v1/documents/[id]/content/route");
let conversations: typeof import("@/app/api/v1/conversations/route");
let conversation: typeof import("@/app/api/v1/conversations/[id]/route");
let queue: typeof import("@/lib/retrieval/queue");

beforeAll(async () => {
  h = await startHarness();
  keys = await import("@/app/api/v1/api-keys/route");
  documents = await import("@/app/api/v1/documents/route");
  document = await import("@/app/api/v1/documents/[id]/route");
  content = await import("@/app/api/v1/documents/[id]/content/route");
  conversations = await import("@/app/api/v1/conversations/route");
  conversation = await import("@/app/api/v1/conversations/[id]/route");
  queue = await import("@/lib/retrieval/queue");
});
afterAll(() => h.close());

const SECRET_LINE = "The vault combination is seven four nine two.";

async function readyDocument(cookie: string): Promise<string> {
  const form = new FormData();
  form.set("file", new File([new TextEncoder().encode(`Private notes.\n\n${SECRET_LINE}\n`)], "private.txt", { type: "text/plain" }));
  const uploaded = await documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), {
    params: Promise.resolve({}),
  });
  expect(uploaded.status).toBe(202);
  const { id } = (await uploaded.json()) as { id: string };
  await queue.kickIngestion();
  for (let i = 0; i < 200; i++) {
    const { status } = (await (await call(document.GET, { cookie, params: { id } })).json()) as { status: string };
    if (status === "ready") return id;
    expect(status).not.toBe("failed");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the document did not become ready");
}

async function keyWith(cookie: string, scopes: string[]): Promise<Record<string, string>> {
  const created = await call(keys.POST, { cookie, body: { name: scopes.join(" "), scopes } });
  return { authorization: `Bearer ${((await created.json()) as { key: string }).key}` };
}

describe("a conversations-only API key", () => {
  it("cannot attach its owner's documents to read them through replies, nor read them directly", { timeout: 90_000 }, async () => {
    const { cookie } = await h.signUp();
    const documentId = await readyDocument(cookie);
    const chatOnly = await keyWith(cookie, ["conversations:read", "conversations:write"]);

    const attached = await call(conversations.POST, {
      headers: chatOnly,
      body: { document_ids: [documentId], first_message: "What is the vault combination?" },
    });
    const body = await attached.text();
    expect(body).not.toContain("seven four nine two");
    expect(attached.status).toBe(403);
    expect(JSON.parse(body)).toMatchObject({ code: "insufficient_scope", required_scope: "documents:read" });

    const open = (await (await call(conversations.POST, { headers: chatOnly, body: { title: "open" } })).json()) as { conversation: { id: string } };
    const patched = await call(conversation.PATCH, { headers: chatOnly, params: { id: open.conversation.id }, body: { document_ids: [documentId] } });
    expect(patched.status).toBe(403);
    const after = (await (await call(conversation.GET, { headers: chatOnly, params: { id: open.conversation.id } })).json()) as { conversation: { document_ids: string[] } };
    expect(after.conversation.document_ids).toEqual([]);

    for (const route of [document.GET, content.GET]) expect((await call(route, { headers: chatOnly, params: { id: documentId } })).status).toBe(403);
    expect((await call(documents.GET, { headers: chatOnly })).status).toBe(403);

    // With documents:read as well, attaching is what the key may do.
    const reader = await keyWith(cookie, ["conversations:read", "conversations:write", "documents:read"]);
    const grounded = await call(conversations.POST, { headers: reader, body: { document_ids: [documentId], first_message: "What is the vault combination?" } });
    expect(grounded.status).toBe(201);
  });
});
