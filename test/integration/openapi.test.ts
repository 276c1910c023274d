import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";

let h: Harness;
let doc: ReturnType<typeof import("@/app/api/v1/openapi-document").openApiDocument>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const exercised = new Set<string>();

beforeAll(async () => {
  h = await startHarness();
  doc = (await import("@/app/api/v1/openapi-document")).openApiDocument();
  ajv.addSchema({ $id: "https://bot-gpt.test/openapi.json", components: doc.components });
});
afterAll(() => h.close());

type Responses = Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;

/** Validates a real response against the document's schema for that operation and status. */
async function expectDocumented(operationId: string, response: Response) {
  const found = Object.values(doc.paths)
    .flatMap((methods) => Object.values(methods) as Array<{ operationId: string; responses: Responses }>)
    .find((op) => op.operationId === operationId);
  expect(found, `operation ${operationId}`).toBeDefined();
  const documented = found!.responses[String(response.status)];
  expect(documented, `${operationId} documents status ${response.status}`).toBeDefined();
  exercised.add(operationId);
  if (response.status === 204) return undefined;
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!;
  const media = documented!.content?.[type];
  expect(media, `${operationId} ${response.status} documents ${type}`).toBeDefined();
  if ((media?.schema as { format?: string } | undefined)?.format === "binary") return undefined;
  if (type === "text/event-stream") {
    const text = await response.text();
    expect(text).toContain("data: [DONE]");
    return text;
  }
  const schemaRef = media?.schema?.$ref;
  expect(schemaRef, `${operationId} ${response.status} documents ${type}`).toBeDefined();
  const body: unknown = await response.json();
  const validate = ajv.getSchema(`https://bot-gpt.test/openapi.json${schemaRef}`)!;
  const ok = validate(body);
  expect(ok, `${operationId} ${response.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return body;
}

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document, served at /api/v1/openapi.json", async () => {
    expect(doc.openapi).toBe("3.1.0");
    await SwaggerParser.validate(structuredClone(doc) as never);
    const route = await import("@/app/api/v1/openapi.json/route");
    const res = await call(route.GET);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("describes the real responses of every route", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const one = await import("@/app/api/v1/conversations/[id]/route");
    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const feedback = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/feedback/route");
    const keys = await import("@/app/api/v1/api-keys/route");
    const key = await import("@/app/api/v1/api-keys/[id]/route");
    const usage = await import("@/app/api/v1/usage/route");
    const models = await import("@/app/api/v1/models/route");
    const completions = await import("@/app/api/v1/chat/completions/route");
    const { cookie } = await h.signUp();

    const created = (await expectDocumented("createConversation", await call(conversations.POST, { cookie, body: { first_message: "hello" } }))) as {
      conversation: { id: string };
      messages: Array<{ id: string }>;
    };
    await expectDocumented("createConversation", await call(conversations.POST, { cookie, body: { title: "empty" } }));
    const params = { id: created.conversation.id };
    await expectDocumented("listConversations", await call(conversations.GET, { cookie, path: "/c?limit=1" }));
    await expectDocumented("listConversations", await call(conversations.GET, { cookie, path: "/c?cursor=bad" }));
    await expectDocumented("getConversation", await call(one.GET, { cookie, params }));
    await expectDocumented("getConversation", await call(one.GET, { cookie, params: { id: crypto.randomUUID() } }));
    await expectDocumented("updateConversation", await call(one.PATCH, { cookie, params, body: { pinned: true } }));
    await expectDocumented("updateConversation", await call(one.PATCH, { cookie, params, body: { pinned: "yes" } }));
    await expectDocumented("postMessage", await call(messages.POST, { cookie, params, body: { content: "again" } }));
    await expectDocumented("listMessages", await call(messages.GET, { cookie, params, path: "/m?limit=2" }));
    const stream = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stream/route");
    const stop = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
    const reply = { ...params, message_id: created.messages[1]!.id };
    await expectDocumented("resumeReplyStream", await call(stream.GET, { cookie, params: reply }));
    await expectDocumented("resumeReplyStream", await call(stream.GET, { cookie, params: reply, headers: { "last-event-id": "x" } }));
    await expectDocumented("resumeReplyStream", await call(stream.GET, { cookie, params: { ...params, message_id: created.messages[0]!.id } }));
    await expectDocumented("stopReply", await call(stop.POST, { cookie, params: reply, method: "POST" }));
    await expectDocumented("stopReply", await call(stop.POST, { cookie, params: { ...params, message_id: crypto.randomUUID() }, method: "POST" }));
    await expectDocumented(
      "rateMessage",
      await call(feedback.POST, { cookie, params: { ...params, message_id: created.messages[1]!.id }, body: { rating: "up", comment: "good" } }),
    );
    await expectDocumented("clearMessageRating", await call(feedback.DELETE, { cookie, params: { ...params, message_id: created.messages[1]!.id }, method: "DELETE" }));
    const thread = (await (await call(messages.GET, { cookie, params })).json()) as { data: Array<{ id: string }> };
    const regenerate = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/regenerate/route");
    const edit = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/edit/route");
    await expectDocumented("regenerateReply", await call(regenerate.POST, { cookie, params: { ...params, message_id: thread.data[1]!.id }, body: {} }));
    const regenerated = (await expectDocumented(
      "regenerateReply",
      await call(regenerate.POST, { cookie, params: { ...params, message_id: thread.data.at(-1)!.id }, body: {} }),
    )) as { assistant_message: { id: string } };
    await expectDocumented("regenerateReply", await call(regenerate.POST, { cookie, params: { ...params, message_id: regenerated.assistant_message.id }, body: { stream: true } }));
    await expectDocumented("editMessage", await call(edit.POST, { cookie, params: { ...params, message_id: thread.data.at(-2)!.id }, body: { content: "again, edited" } }));
    await expectDocumented("editMessage", await call(edit.POST, { cookie, params: { ...params, message_id: thread.data.at(-1)!.id }, body: { content: "x" } }));
    h.mock.pushFault({ type: "status", status: 503 });
    await expectDocumented("postMessage", await call(messages.POST, { cookie, params, body: { content: "fails" } }));
    await expectDocumented("getUsage", await call(usage.GET, { cookie, path: "/u?group_by=model" }));
    await expectDocumented("listModels", await call(models.GET, { cookie }));
    const newKey = (await expectDocumented("createApiKey", await call(keys.POST, { cookie, body: { name: "doc", scopes: ["conversations:read"] } }))) as {
      id: string;
      key: string;
    };
    await expectDocumented("listApiKeys", await call(keys.GET, { cookie }));
    // A read-only key may not create: 403 is documented too.
    await expectDocumented("createConversation", await call(conversations.POST, { headers: { authorization: `Bearer ${newKey.key}` }, body: {} }));
    await expectDocumented("revokeApiKey", await call(key.DELETE, { cookie, params: { id: newKey.id }, method: "DELETE" }));
    await expectDocumented(
      "createChatCompletion",
      await call(completions.POST, { cookie, body: { model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } }),
    );
    const documents = await import("@/app/api/v1/documents/route");
    const document = await import("@/app/api/v1/documents/[id]/route");
    const content = await import("@/app/api/v1/documents/[id]/content/route");
    const uploadForm = (name: string, text: string) => {
      const form = new FormData();
      form.set("file", new File([text], name, { type: "text/plain" }));
      form.set("conversation_id", params.id);
      return documents.POST(new Request("http://localhost/api/v1/documents", { method: "POST", body: form, headers: { cookie } }), { params: Promise.resolve({}) });
    };
    const uploaded = (await expectDocumented("uploadDocument", await uploadForm("facts.txt", "The lighthouse keeper lit the lamp at dusk."))) as { id: string };
    await expectDocumented("uploadDocument", await uploadForm("facts.exe", "MZ binary"));
    await (await import("@/lib/retrieval/queue")).kickIngestion();
    await expectDocumented("listDocuments", await call(documents.GET, { cookie, path: "/d?limit=5" }));
    await expectDocumented("getDocument", await call(document.GET, { cookie, params: { id: uploaded.id } }));
    await expectDocumented("getDocumentContent", await call(content.GET, { cookie, params: { id: uploaded.id } }));
    // A grounded reply carries citations and its retrieval trace.
    const grounded = (await expectDocumented("postMessage", await call(messages.POST, { cookie, params, body: { content: "When did the keeper light the lamp?" } }))) as {
      assistant_message: { citations: unknown[]; retrieval: unknown };
    };
    expect(grounded.assistant_message.citations.length).toBeGreaterThan(0);
    expect(grounded.assistant_message.retrieval).not.toBeNull();
    await expectDocumented("deleteDocument", await call(document.DELETE, { cookie, params: { id: uploaded.id }, method: "DELETE" }));
    await expectDocumented("getDocument", await call(document.GET, { cookie, params: { id: uploaded.id } }));
    await expectDocumented("deleteConversation", await call(one.DELETE, { cookie, params, method: "DELETE" }));
    await expectDocumented("listConversations", await call(conversations.GET, {}));

    const documented = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => (op as { operationId: string }).operationId));
    expect([...exercised].sort()).toEqual([...documented].sort());
  });
});
