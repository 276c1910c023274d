import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startHarness, type Harness } from "../support/harness";
import { isPublic, probesFor, SAME_ORIGIN, urlOf, VALID_BODIES, type DocOperation } from "../support/status-probes";

let h: Harness;
let doc: ReturnType<typeof import("@/app/api/v1/openapi-document").openApiDocument>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
/** operationId → the statuses its handlers answered in this file. */
const exercised = new Map<string, Set<string>>();

beforeAll(async () => {
  // A small upload limit, so a probe can exceed it cheaply.
  h = await startHarness({ MAX_UPLOAD_BYTES: "200000" });
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
  exercised.set(operationId, (exercised.get(operationId) ?? new Set()).add(String(response.status)));
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
    // A model this server does not list.
    await expectDocumented("createConversation", await call(conversations.POST, { cookie, body: { title: "no such model", model: "openai:no-such-model" } }));
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
    expect([...exercised.keys()].sort()).toEqual([...documented].sort());
  });

  it("lists every status the wrappers answer, probed on every operation (auth, scope, limits, body, query, ids, Idempotency-Key)", async () => {
    const { cookie, user } = await h.signUp();
    const { createApiKey } = await import("@/lib/db/queries/api-keys");
    const { setRateLimitStore } = await import("@/lib/api/rate-limit");
    const keys = new Map<string, string>();
    for (const scope of ["conversations:read", "documents:read"] as const) {
      keys.set(scope, (await createApiKey({ userId: user.id, name: scope, scopes: [scope], expiresAt: null })).key);
    }
    const keyWithout = (scope: string | undefined) => [...keys].find(([held]) => held !== scope)![1];
    const disabled = await h.signUp();
    await (await import("@/lib/db/queries/users")).setUserDisabled({ user: disabled.user.id, disabled: true });
    const maxUploadBytes = (await import("@/lib/env")).env.MAX_UPLOAD_BYTES;
    const refuseAll = { take: async () => ({ allowed: false, limit: 1, remaining: 0, resetSeconds: 60, retryAfterSeconds: 60 }) };
    const failures: string[] = [];
    for (const op of docOperations()) {
      const handler = await handlerOf(op);
      for (const probe of probesFor(op, { cookie, keyWithout, disabledCookie: disabled.cookie, maxUploadBytes })) {
        if (probe.around === "rate-limited") setRateLimitStore(refuseAll);
        let response: Response;
        try {
          response = await handler(probe.request(), { params: Promise.resolve(probe.params) });
          if (probe.then) response = await handler(probe.then(), { params: Promise.resolve(probe.params) });
        } finally {
          setRateLimitStore(undefined);
        }
        if (response.status !== probe.expect) failures.push(`${op.operationId} (${probe.name}): expected ${probe.expect}, got ${response.status}`);
        await expectDocumented(op.operationId, response);
      }
    }
    expect(failures).toEqual([]);
  });

  it("lists 503 where a draining instance refuses new model turns, and nowhere else answers it", async () => {
    const { cookie } = await h.signUp();
    const shutdown = (globalThis as { __botGptShutdown?: { draining: boolean } }).__botGptShutdown!;
    shutdown.draining = true;
    try {
      for (const op of docOperations().filter((o) => !isPublic(o))) {
        const { url, params } = urlOf(op);
        const body = ["POST", "PATCH"].includes(op.method) ? VALID_BODIES[op.operationId]?.() : undefined;
        const headers = { cookie, ...SAME_ORIGIN, ...(typeof body === "string" ? { "content-type": "application/json" } : {}) };
        const response = await (await handlerOf(op))(new Request(url, { method: op.method, headers, body }), { params: Promise.resolve(params) });
        await expectDocumented(op.operationId, response);
      }
    } finally {
      shutdown.draining = false;
    }
    for (const operationId of ["createConversation", "postMessage", "regenerateReply", "editMessage", "createChatCompletion"]) {
      expect(exercised.get(operationId), operationId).toContain("503");
    }
  });

  it("states the rules the server applies: message content, the /usage window, Idempotency-Key", async () => {
    const { cookie } = await h.signUp();
    const operation = (id: string) => docOperations().find((op) => op.operationId === id)!;
    const verdicts: string[] = [];
    const agree = (what: string, documented: boolean, served: number) => {
      // The server's verdict: 4xx from validation, anything else means the value got through.
      const accepted = ![400, 422].includes(served);
      if (documented !== accepted) verdicts.push(`${what}: document says ${documented ? "valid" : "invalid"}, server answered ${served}`);
    };

    const messages = await import("@/app/api/v1/conversations/[id]/messages/route");
    const contentSchema = { ...(doc.components.schemas.PostMessageRequest as { properties: { content: object } }).properties.content };
    for (const content of ["hello", "  \n\t ", "", "a\u0000b", "\u00a0\ufeff", "x".repeat(40_000)]) {
      const res = await call(messages.POST, { cookie, params: { id: crypto.randomUUID() }, body: { content } });
      agree(`content ${JSON.stringify(content.slice(0, 12))}`, ajv.validate(contentSchema, content), res.status);
    }

    const usage = await import("@/app/api/v1/usage/route");
    const fromSchema = operation("getUsage").parameters.find((p) => p.name === "from") as unknown as { schema: object };
    for (const from of ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+05:30", "2026-01-01", "1969-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "2026-13-01T00:00:00Z"]) {
      const res = await call(usage.GET, { cookie, path: `/u?from=${encodeURIComponent(from)}&to=2027-01-01T00:00:00Z` });
      agree(`from=${from}`, ajv.validate(fromSchema.schema, from), res.status);
    }
    // What the schema cannot say, the description does; the server holds to it.
    expect((operation("getUsage") as { description?: string }).description).toContain("must not be after");
    expect((await call(usage.GET, { cookie, path: "/u?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z" })).status).toBe(200);
    expect((await call(usage.GET, { cookie, path: "/u?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z" })).status).toBe(422);
    expect((await call(usage.GET, { cookie, path: "/u?from=2999-01-01T00:00:00Z" })).status).toBe(422);

    const stop = await import("@/app/api/v1/conversations/[id]/messages/[message_id]/stop/route");
    const keySchema = operation("stopReply").parameters.find((p) => p.name === "Idempotency-Key") as unknown as { schema: object };
    for (const key of ["abc-123", "", "has space", "é", "k".repeat(255), "k".repeat(256)]) {
      const params = { id: crypto.randomUUID(), message_id: crypto.randomUUID() };
      const res = await call(stop.POST, { cookie, params, method: "POST", headers: { "idempotency-key": key } });
      agree(`Idempotency-Key ${JSON.stringify(key.slice(0, 12))}`, ajv.validate(keySchema.schema, key), res.status);
    }
    expect(verdicts).toEqual([]);
  });

  it("documents the methods each route serves, and no status its handlers never answer here", async () => {
    const { isOtherMethod } = await import("@/lib/api/methods");
    for (const [path, methods] of Object.entries(doc.paths)) {
      const route = (await import(`../../app/api/v1${routeDir(path)}/route`)) as Record<string, unknown>;
      // A route's own handlers; the methods it refuses (otherMethods: OPTIONS, 405) are not operations.
      const served = HTTP_METHODS.filter((method) => typeof route[method] === "function" && !isOtherMethod(route[method]));
      expect(served, path).toEqual(Object.keys(methods).map((m) => m.toUpperCase()).sort());
    }
    const unexercised = docOperations().flatMap((op) =>
      Object.keys(op.responses)
        .filter((status) => !exercised.get(op.operationId)?.has(status) && !NOT_PROBED[op.operationId]?.includes(Number(status)))
        .map((status) => `${op.operationId} ${status}`),
    );
    expect(unexercised).toEqual([]);
  });
});

const HTTP_METHODS = ["DELETE", "GET", "PATCH", "POST", "PUT"];

/**
 * Documented statuses no test in this file provokes, each for a reason; any other documented
 * status must be answered by a request above. Adding a status to an operation means a probe or
 * the flow test provokes it, or one entry here says why not.
 */
const AFTER_TEXT = [502, 504]; // a provider failing after text reached the client; before it, the offline model answers (resilience.test.ts)
const NOT_PROBED: Record<string, number[]> = {
  createConversation: AFTER_TEXT,
  postMessage: AFTER_TEXT,
  regenerateReply: AFTER_TEXT,
  editMessage: AFTER_TEXT,
  // A provider outage is its 502/504 here, not the offline model's (openai-compat.test.ts); 422
  // `model_not_priced` needs a USD budget and an unpriced listed model (models.test.ts).
  createChatCompletion: [502, 504, 422],
  // A bad cursor on an existing conversation (here its random id is 404 first): message-pages.test.ts.
  listMessages: [400],
  // A stream log past STREAM_LOG_TTL_SECONDS: durable-streams.test.ts.
  resumeReplyStream: [410],
  // A reply that has not settled within the stop's wait of a few seconds.
  stopReply: [202],
};

const routeDir = (path: string) => path.replace(/\{(\w+)\}/g, "[$1]");

function docOperations(): DocOperation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, Omit<DocOperation, "method" | "path">>).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
  );
}

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

async function handlerOf(op: DocOperation): Promise<Handler> {
  const route = (await import(`../../app/api/v1${routeDir(op.path)}/route`)) as Record<string, Handler>;
  return route[op.method]!;
}
