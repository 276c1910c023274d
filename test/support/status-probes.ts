import { randomUUID } from "node:crypto";

/**
 * Requests that make the API wrappers answer with each of their own statuses, derived from an
 * OpenAPI operation's shape (public or not, scope, body, query, path parameters, Idempotency-Key),
 * so every operation — including one added tomorrow — is probed for every status it can answer
 * whatever its handler does. test/integration/openapi.test.ts checks each answer is documented.
 */

export type DocOperation = {
  operationId: string;
  method: string;
  path: string;
  security: Array<Record<string, unknown>>;
  parameters: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description?: string }>;
  "x-required-scope"?: string;
};

export type Probe = {
  name: string;
  /** The status this probe exists to provoke. */
  expect: number;
  /** Optional set-up around the request (e.g. a rate limiter that refuses everything). */
  around?: "rate-limited";
  /** The route parameters of the request's URL. */
  params: Record<string, string>;
  request: () => Request;
  /** A second request whose answer is the one checked (the first only claims a key). */
  then?: () => Request;
};

export type ProbeCallers = {
  /** A signed-in browser session's cookie. */
  cookie: string;
  /** The session cookie of a disabled account. */
  disabledCookie: string;
  /** MAX_UPLOAD_BYTES of the server under test. */
  maxUploadBytes: number;
  /** API keys, each holding only the scope it is named by. */
  keyWithout: (scope: string | undefined) => string;
};

/** A valid body per operation, so probes that need one get past the schema (one line per new body). */
export const VALID_BODIES: Record<string, () => BodyInit> = {
  // With a first message: it calls a model (the chat bucket, refused by a draining instance).
  createConversation: () => JSON.stringify({ title: "probe", first_message: "probe" }),
  updateConversation: () => JSON.stringify({ title: "probe" }),
  postMessage: () => JSON.stringify({ content: "probe" }),
  regenerateReply: () => JSON.stringify({}),
  editMessage: () => JSON.stringify({ content: "probe" }),
  rateMessage: () => JSON.stringify({ rating: "up" }),
  createApiKey: () => JSON.stringify({ name: "probe", scopes: ["conversations:read"] }),
  createChatCompletion: () => JSON.stringify({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "probe" }], store: false }),
  uploadDocument: () => {
    const form = new FormData();
    form.set("file", new File([`probe ${randomUUID()}`], "probe.txt", { type: "text/plain" }));
    return form;
  },
};

/** Bodies naming a resource that does not exist (404), for operations that take an id in the body. */
export const MISSING_IN_BODY: Record<string, () => BodyInit> = {
  uploadDocument: () => {
    const form = new FormData();
    form.set("file", new File(["probe"], "probe.txt", { type: "text/plain" }));
    form.set("conversation_id", randomUUID());
    return form;
  },
  createChatCompletion: () => JSON.stringify({ model: "openai:gpt-4o-mini", messages: [{ role: "user", content: "probe" }], conversation_id: randomUUID() }),
};

/** What a browser sends with a request from the app's own pages (cookie requests must come from there). */
export const SAME_ORIGIN = { origin: "http://localhost", "sec-fetch-site": "same-origin" };

export const isPublic = (op: DocOperation) => op.security.length === 0;
const isSessionOnly = (op: DocOperation) => op.security.length === 1 && "sessionCookie" in op.security[0]!;
const bodyType = (op: DocOperation) => Object.keys(op.requestBody?.content ?? {})[0];
const takesIdempotencyKey = (op: DocOperation) => op.parameters.some((p) => p.in === "header" && p.name === "Idempotency-Key");

/** The operation's URL with fresh random ids in its path parameters (so id routes answer 404). */
export function urlOf(op: DocOperation, query = ""): { url: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => (params[name] = randomUUID()));
  return { url: `http://localhost/api/v1${path}${query}`, params };
}

export function probesFor(op: DocOperation, callers: ProbeCallers): Probe[] {
  const { url, params } = urlOf(op);
  const valid = VALID_BODIES[op.operationId];
  const type = bodyType(op);
  if (type && !valid) throw new Error(`${op.operationId}: add a valid body to VALID_BODIES in test/support/status-probes.ts`);
  const auth = { cookie: callers.cookie, ...SAME_ORIGIN };
  const make = (init: { headers?: Record<string, string>; body?: BodyInit; query?: string } = {}) => () => {
    const headers = new Headers({ ...auth, ...init.headers });
    const body = init.body ?? valid?.();
    if (type === "application/json" && !headers.has("content-type")) headers.set("content-type", "application/json");
    const hasBody = op.method !== "GET" && op.method !== "DELETE" && body !== undefined;
    return new Request(`${url}${init.query ?? ""}`, { method: op.method, headers, body: hasBody ? body : undefined });
  };
  const probes: Array<Omit<Probe, "params">> = [];
  if (!isPublic(op)) {
    probes.push({ name: "no credentials", expect: 401, request: () => new Request(url, { method: op.method }) });
    probes.push({ name: "rate limited", expect: 429, around: "rate-limited", request: make() });
    probes.push({ name: "a disabled account", expect: 403, request: () => new Request(url, { method: op.method, headers: { cookie: callers.disabledCookie, ...SAME_ORIGIN } }) });
    const scope = op["x-required-scope"];
    if (scope || isSessionOnly(op)) {
      const key = callers.keyWithout(scope);
      probes.push({ name: "API key without the scope (or any key on a session-only route)", expect: 403, request: () => new Request(url, { method: op.method, headers: { authorization: `Bearer ${key}` } }) });
    }
  }
  // Where the document lists `validation_failed` (422 on the native API, 400 on the OpenAI-compatible one).
  const invalid = Number(Object.entries(op.responses).find(([, r]) => r.description?.includes("`validation_failed`"))?.[0] ?? 422);
  if (type === "application/json") {
    probes.push({ name: "not JSON", expect: 415, request: make({ headers: { "content-type": "text/plain" }, body: "hello" }) });
    probes.push({ name: "malformed JSON", expect: 400, request: make({ body: "{" }) });
    probes.push({ name: "body over 1 MiB", expect: 413, request: make({ body: JSON.stringify({ pad: "x".repeat(1024 * 1024) }) }) });
    probes.push({ name: "NUL in a string", expect: invalid, request: make({ body: JSON.stringify({ text: "a\u0000b" }) }) });
    probes.push({ name: "fails the schema", expect: invalid, request: make({ body: "[]" }) });
  }
  if (type === "multipart/form-data") {
    probes.push({ name: "not multipart", expect: 415, request: make({ headers: { "content-type": "text/plain" }, body: "hello" }) });
    probes.push({ name: "no file field", expect: 422, request: make({ body: new FormData() }) });
    probes.push({
      name: "a file over MAX_UPLOAD_BYTES",
      expect: 413,
      request: make({
        body: (() => {
          const form = new FormData();
          form.set("file", new File([new Uint8Array(callers.maxUploadBytes + 100_000)], "big.txt", { type: "text/plain" }));
          return form;
        })(),
      }),
    });
  }
  const query = op.parameters.filter((p) => p.in === "query");
  if (query.length > 0) probes.push({ name: "unknown query parameter", expect: 422, request: make({ query: "?no_such_parameter=1" }) });
  // On an id route the id is looked up first (404), so the cursor is probed where there is none.
  if (query.some((p) => p.name === "cursor") && !op.path.includes("{")) probes.push({ name: "a cursor this API did not issue", expect: 400, request: make({ query: "?cursor=not-a-cursor" }) });
  if (op.path.includes("{")) probes.push({ name: "ids that do not exist", expect: 404, request: make() });
  const missing = MISSING_IN_BODY[op.operationId];
  if (missing) probes.push({ name: "a body naming an id that does not exist", expect: 404, request: make({ body: missing() }) });
  if (takesIdempotencyKey(op)) {
    probes.push({ name: "empty Idempotency-Key", expect: 400, request: make({ headers: { "idempotency-key": "" } }) });
    const key = `probe-${randomUUID()}`;
    probes.push({
      name: "an Idempotency-Key reused for another request",
      expect: 409,
      request: make({ headers: { "idempotency-key": key, accept: "application/json" } }),
      then: make({ headers: { "idempotency-key": key, accept: "application/json, */*" } }),
    });
  }
  return probes.map((probe) => ({ ...probe, params }));
}
