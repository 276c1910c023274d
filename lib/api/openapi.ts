import { z } from "zod";
import type { ApiKeyScope } from "@/lib/db/schema";
import { errorCatalog, type ErrorCode } from "./errors";
import { IDEMPOTENCY_KEY_SHAPE } from "./idempotency";

/**
 * Builds an OpenAPI 3.1 document from the same zod schemas the handlers validate with and the
 * serializers are typed against: there is no hand-written copy to drift.
 */

type Method = "get" | "post" | "patch" | "delete";

export type ResponseSpec = {
  description: string;
  schema?: z.ZodType;
  stream?: "ui-message" | "openai";
  /** Raw (non-JSON) bodies, e.g. a file's original bytes. */
  mediaTypes?: string[];
};

export type Operation = {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Scope an API key needs; undefined = any authenticated caller. */
  scope?: ApiKeyScope;
  sessionOnly?: boolean;
  public?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** How the body is sent (default application/json). */
  bodyMediaType?: "application/json" | "multipart/form-data";
  /** false: the route does not honour Idempotency-Key (withAuth's `idempotent: false`). */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
  /** What this route's own handler can answer; the wrappers' answers are added (impliedErrors). */
  errors: ErrorCode[];
  /** OpenAI-compatible route: validation errors are 400, as OpenAI answers them (lib/api/errors.ts). */
  openAiCompatible?: boolean;
};

export type NamedSchemas = Record<string, z.ZodType>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function componentSchemas(schemas: NamedSchemas, io: "input" | "output"): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [name, schema] of Object.entries(schemas)) registry.add(schema, { id: name });
  const result = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, io, target: "draft-2020-12", unrepresentable: "any" });
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(result.schemas)) {
    // Standalone-document keys do not belong inside components.
    const rest: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
    delete rest.$schema;
    delete rest.$id;
    out[name] = rest;
  }
  return out;
}

function nameOf(schemas: NamedSchemas, schema: z.ZodType): string {
  const entry = Object.entries(schemas).find(([, s]) => s === schema);
  if (!entry) throw new Error("schema used by an operation is not registered by name");
  return entry[0];
}

function queryParameters(query: z.ZodObject) {
  const json = z.toJSONSchema(query, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
    schema,
  }));
}

const rateLimitHeaders = {
  "RateLimit-Limit": { description: "Requests allowed per window", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Requests left in the window", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window is full again", schema: { type: "integer" } },
};
const requestIdHeader = { "X-Request-Id": { description: "Echoes a sane caller id, or a new one", schema: { type: "string" } } };

const takesIdempotencyKey = (op: Operation) => op.method === "post" && !op.public && op.idempotent !== false;

/**
 * What the wrappers (lib/api/handler.ts) answer for an operation of this shape before or around
 * its handler, so no operation can forget them: credentials and rate limits, scope, the body's
 * media type, size, JSON and schema, the query's schema, and the Idempotency-Key's shape and reuse.
 */
export function impliedErrors(op: Operation): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (!op.public) codes.push("unauthenticated", "invalid_api_key", "account_disabled", "rate_limited");
  if (op.scope) codes.push("insufficient_scope");
  if (op.sessionOnly) codes.push("session_required");
  if (op.query) codes.push("validation_failed");
  if (op.body && op.bodyMediaType === "multipart/form-data") codes.push("bad_request", "unsupported_media_type", "file_too_large", "validation_failed");
  else if (op.body) codes.push("invalid_json", "payload_too_large", "unsupported_media_type", "validation_failed");
  if (takesIdempotencyKey(op)) codes.push("bad_request", "idempotency_key_reused", "idempotency_in_progress");
  // A state change with the session cookie must come from the app's own origin (lib/api/origin.ts).
  if (!op.public && op.method !== "get") codes.push("cross_origin_request");
  return codes;
}

/**
 * `authenticated`: after authentication every answer (a 403 too) carries the rate-limit headers.
 * `openAiCompatible`: validation errors are 400, as OpenAI answers them.
 */
function errorResponses(codes: ErrorCode[], authenticated: boolean, openAiCompatible = false) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = openAiCompatible && code === "validation_failed" ? 400 : errorCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => `\`${c}\` — ${errorCatalog[c].title}`).join("; "),
        headers:
          status === 429
            ? { ...requestIdHeader, ...rateLimitHeaders, "Retry-After": { schema: { type: "integer" } } }
            : status === 403 && authenticated
              ? { ...requestIdHeader, ...rateLimitHeaders }
              : requestIdHeader,
        content: { "application/problem+json": { schema: ref("Problem") } },
      },
    ]),
  );
}

export function buildOpenApiDocument(input: {
  title: string;
  version: string;
  description: string;
  requests: NamedSchemas;
  responses: NamedSchemas;
  operations: Operation[];
}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of input.operations) {
    const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string", format: "uuid" },
    }));
    const headerParams = takesIdempotencyKey(op)
      ? [
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description: "Replays the first response for 24 h; another request with the same key is 409. An empty or malformed key (not 1–255 visible ASCII characters) is 400 `bad_request`.",
            schema: { type: "string", minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_SHAPE.source },
          },
        ]
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      const content: Record<string, unknown> = {};
      if (spec.schema) content["application/json"] = { schema: ref(nameOf(input.responses, spec.schema)) };
      for (const mediaType of spec.mediaTypes ?? []) content[mediaType] = { schema: { type: "string", format: "binary" } };
      if (spec.stream) {
        content["text/event-stream"] = {
          schema: {
            type: "string",
            description: spec.stream === "openai" ? "OpenAI chat.completion.chunk events" : "AI SDK UI message stream (x-vercel-ai-ui-message-stream: v1)",
          },
        };
      }
      responses[status] = {
        description: spec.description,
        headers: op.public ? requestIdHeader : { ...requestIdHeader, ...rateLimitHeaders },
        ...(Object.keys(content).length ? { content } : {}),
      };
    }
    Object.assign(responses, errorResponses([...new Set([...impliedErrors(op), ...op.errors])], !op.public, op.openAiCompatible));
    const security = op.public ? [] : op.sessionOnly ? [{ sessionCookie: [] }] : [{ bearerAuth: [] }, { sessionCookie: [] }];
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      security,
      ...(op.scope ? { "x-required-scope": op.scope } : {}),
      parameters: [...pathParams, ...(op.query ? queryParameters(op.query) : []), ...headerParams],
      ...(op.body
        ? { requestBody: { required: true, content: { [op.bodyMediaType ?? "application/json"]: { schema: ref(nameOf(input.requests, op.body)) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: input.title, version: input.version, description: input.description },
    servers: [{ url: "/api/v1" }],
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    tags: [...new Set(input.operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "An API key, `bgpt_…`, created in Settings → API keys" },
        sessionCookie: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "The browser session" },
      },
      schemas: { ...componentSchemas(input.requests, "input"), ...componentSchemas(input.responses, "output") },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
