import type { Metadata } from "next";
import Link from "next/link";
import { openApiDocument } from "@/app/api/v1/openapi-document";
import { SchemaTable, type Components } from "@/components/docs/schema-table";
import { CodeBlock, Section } from "@/components/docs/section";
import { TryIt } from "@/components/docs/try-it";
import { errorCatalog } from "@/lib/api/errors";

export const metadata: Metadata = { title: "API reference" };

type Parameter = { name: string; in: string; required: boolean; description?: string; schema: Record<string, unknown> };
type ResponseObject = { description: string; content?: Record<string, { schema: { $ref?: string; description?: string } }> };
type OperationObject = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: unknown[];
  "x-required-scope"?: string;
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, ResponseObject>;
};

function bodyMediaType(op: OperationObject): string {
  return Object.keys(op.requestBody?.content ?? {})[0] ?? "application/json";
}

const curlStream = `curl -N https://YOUR-HOST/api/v1/conversations \\
  -H "Authorization: Bearer $BGPT_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: $(uuidgen)" \\
  -d '{"first_message": "Explain GCRA in one paragraph", "stream": true}'

data: {"type":"start","messageId":"…","messageMetadata":{"conversation_id":"…","user_message_id":"…","assistant_message_id":"…"}}
data: {"type":"text-start","id":"text-…"}
data: {"type":"text-delta","id":"text-…","delta":"GCRA "}
…
data: {"type":"text-end","id":"text-…"}
data: {"type":"finish","finishReason":"stop","messageMetadata":{"status":"complete","prompt_tokens":31,"completion_tokens":118,"cost_usd":0.0000755,"model":"openai:gpt-4o-mini","fallback_used":false}}
data: [DONE]`;

const curlPage = `# Newest conversations first, 20 per page
curl -s "https://YOUR-HOST/api/v1/conversations?limit=20" -H "Authorization: Bearer $BGPT_KEY"
# => {"data":[…], "next_cursor":"eyJhdCI6…"}
curl -s "https://YOUR-HOST/api/v1/conversations?limit=20&cursor=eyJhdCI6…" -H "Authorization: Bearer $BGPT_KEY"

# A long conversation's messages in order
curl -s "https://YOUR-HOST/api/v1/conversations/$ID/messages?limit=100" -H "Authorization: Bearer $BGPT_KEY"`;

const openAiExample = `import OpenAI from "openai";

const client = new OpenAI({ apiKey: "bgpt_…", baseURL: "https://YOUR-HOST/api/v1" }); // your API key

const stream = await client.chat.completions.create({
  model: "openai:gpt-4o-mini",              // any id from GET /api/v1/models
  messages: [{ role: "user", content: "Hello!" }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");
// Each call is recorded as a conversation; send store: false to opt out,
// or conversation_id (an extension field) to continue one.`;

const errorExample = `HTTP/1.1 404 Not Found
Content-Type: application/problem+json
X-Request-Id: 7f1c…

{"type":"https://bot-gpt.dev/errors/conversation_not_found","title":"Conversation not found","status":404,
 "detail":"No conversation with this id.","code":"conversation_not_found","request_id":"7f1c…"}`;

const exampleBodies: Record<string, unknown> = {
  createConversation: { first_message: "Hello!" },
  updateConversation: { title: "Renamed", pinned: true },
  postMessage: { content: "Tell me more." },
  rateMessage: { rating: "up", comment: "Helpful" },
  createApiKey: { name: "My script", scopes: ["conversations:read", "conversations:write"] },
  createChatCompletion: { model: "offline:bot-gpt-offline", messages: [{ role: "user", content: "Hello!" }] },
};

export default function ApiDocsPage() {
  const doc = openApiDocument();
  const components = doc.components.schemas as Components;
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Record<string, OperationObject>).map(([method, op]) => ({ path, method, op })),
  );
  const tags = [...new Set(operations.map((o) => o.op.tags[0] ?? ""))];

  return (
    <main className="mx-auto max-w-4xl space-y-10 px-4 py-10 text-zinc-800 dark:text-zinc-200">
      <header className="space-y-2">
        <h1 className="text-3xl font-semibold">BOT GPT API reference</h1>
        <p>
          Base URL <code>/api/v1</code>. JSON bodies in snake_case; ids are UUIDs; timestamps RFC 3339 UTC. The machine-readable
          description is <a className="text-blue-600 underline dark:text-blue-400" href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).
        </p>
        <nav aria-label="On this page" className="flex flex-wrap gap-3 text-sm">
          {["authentication", "quickstart", "errors", "pagination", "idempotency", "rate-limits", "streaming", "openai", "endpoints"].map((id) => (
            <a key={id} href={`#${id}`} className="text-blue-600 underline dark:text-blue-400">
              {id.replace("-", " ")}
            </a>
          ))}
        </nav>
      </header>

      <Section id="authentication" title="Authentication">
        <p>
          Create a key in <Link className="text-blue-600 underline dark:text-blue-400" href="/settings/api-keys">Settings → API keys</Link> (signed in in the
          browser). It is shown once; store it as a secret. Send it on every request as <code>Authorization: Bearer bgpt_…</code>. Keys
          carry scopes — <code>conversations:read</code>, <code>conversations:write</code>, <code>documents:read</code>,{" "}
          <code>documents:write</code> — and a call without the scope it needs answers 403 <code>insufficient_scope</code> naming it
          (<code>required_scope</code>). Revoked or expired keys answer 401. Keys cannot create, list or revoke keys. The browser session cookie works on
          every endpoint too.
        </p>
      </Section>

      <Section id="quickstart" title="Quickstart">
        <p>Start a conversation and stream the reply:</p>
        <CodeBlock>{curlStream}</CodeBlock>
        <p>
          Continue it with <code>POST /conversations/{"{id}"}/messages</code> and <code>{`{"content": "…"}`}</code>. Without{" "}
          <code>stream</code> the reply arrives as JSON once complete.
        </p>
        <p>Page through history:</p>
        <CodeBlock>{curlPage}</CodeBlock>
      </Section>

      <Section id="errors" title="Errors">
        <p>
          Every error is <code>application/problem+json</code> (RFC 9457) with a stable <code>code</code> and the{" "}
          <code>request_id</code> (also in the <code>X-Request-Id</code> header — send your own to correlate). Validation errors list
          each field in <code>errors</code>. Another user&apos;s ids answer 404, exactly like ids that do not exist. When the model fails
          (502/503/504) your message is already saved; retry later or read the conversation.
        </p>
        <CodeBlock>{errorExample}</CodeBlock>
        <table className="w-full text-left text-sm">
          <thead>
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="py-1 pr-3">Status</th>
              <th className="py-1 pr-3">Code</th>
              <th className="py-1">Meaning</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(errorCatalog)
              .sort((a, b) => a[1].status - b[1].status)
              .map(([code, entry]) => (
                <tr key={code} className="border-b border-zinc-100 dark:border-zinc-900">
                  <td className="py-1 pr-3">{entry.status}</td>
                  <td className="py-1 pr-3 font-mono">{code}</td>
                  <td className="py-1">{entry.title}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </Section>

      <Section id="pagination" title="Pagination">
        <p>
          Lists take <code>limit</code> (1–100, default 20) and <code>cursor</code>, and answer <code>{`{"data": […], "next_cursor": "…"}`}</code>.
          Pass <code>next_cursor</code> back unchanged; it is <code>null</code> on the last page. Order is stable while you page:
          conversations most recently active first, messages by <code>seq</code>. A cursor that was not issued by the API is 400{" "}
          <code>invalid_cursor</code>. <code>q</code> searches conversation titles and message text (full-text; quotes and{" "}
          <code>-word</code> work as in web search).
        </p>
      </Section>

      <Section id="idempotency" title="Idempotency">
        <p>
          Send <code>Idempotency-Key: &lt;unique string&gt;</code> on any POST. Retrying with the same key and body within 24 hours returns
          the first response (header <code>Idempotent-Replayed: true</code>) — no second message, no second model call; a streamed reply
          is replayed as the same stream. The same key with a different body is 409 <code>idempotency_key_reused</code>. If the first
          request is still running, a duplicate waits for it (up to 15 s, then 409 <code>idempotency_in_progress</code>).
        </p>
      </Section>

      <Section id="rate-limits" title="Rate limits">
        <p>
          Limits apply per user and per API key. Every authenticated response carries <code>RateLimit-Limit</code>,{" "}
          <code>RateLimit-Remaining</code> and <code>RateLimit-Reset</code> (seconds). Past the limit: 429 <code>rate_limited</code> with{" "}
          <code>Retry-After</code>. Calls that run a model draw from a smaller bucket than reads.
        </p>
      </Section>

      <Section id="streaming" title="Streaming">
        <p>
          Send <code>&quot;stream&quot;: true</code> or <code>Accept: text/event-stream</code>. The body is the AI SDK UI message stream
          (SSE, header <code>x-vercel-ai-ui-message-stream: v1</code>): a <code>start</code> part with the conversation and message ids,{" "}
          <code>text-delta</code> parts, then <code>finish</code> with usage and cost — or <code>data-problem</code> (the problem
          object) and <code>error</code> if the model failed, or <code>abort</code> if you disconnected. Lines starting with{" "}
          <code>:</code> are heartbeats (every 15 s). Whatever happens, the reply is saved with its final status; read it back with{" "}
          <code>GET /conversations/{"{id}"}</code>.
        </p>
      </Section>

      <Section id="openai" title="OpenAI-compatible endpoint">
        <p>
          <code>POST /chat/completions</code> and <code>GET /models</code> follow OpenAI&apos;s API, so the official clients work with your
          BOT GPT key:
        </p>
        <CodeBlock>{openAiExample}</CodeBlock>
      </Section>

      <Section id="endpoints" title="Endpoints">
        {tags.map((tag) => (
          <div key={tag} className="space-y-6">
            <h3 className="text-lg font-semibold">{tag}</h3>
            {operations
              .filter((o) => o.op.tags[0] === tag)
              .map(({ path, method, op }) => (
                <article key={op.operationId} id={op.operationId} className="space-y-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
                  <h4 className="font-mono text-sm">
                    <span className="mr-2 rounded bg-zinc-900 px-2 py-0.5 text-xs font-bold text-white uppercase dark:bg-zinc-100 dark:text-zinc-900">{method}</span>
                    /api/v1{path}
                  </h4>
                  <p className="font-medium">{op.summary}</p>
                  {op.description ? <p className="text-sm">{op.description}</p> : null}
                  <p className="text-xs text-zinc-500 dark:text-zinc-400">
                    {op["x-required-scope"] ? `Scope: ${op["x-required-scope"]}` : "Any authenticated caller"}
                    {op.security.length === 1 ? " · browser session only" : ""}
                  </p>
                  {op.parameters.length ? (
                    <ul className="text-sm">
                      {op.parameters.map((p) => (
                        <li key={`${p.in}-${p.name}`}>
                          <code>{p.name}</code> <span className="text-xs text-zinc-500 dark:text-zinc-400">({p.in}{p.required ? ", required" : ""})</span>
                          {p.description ? ` — ${p.description}` : ""}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {op.requestBody ? (
                    <div className="space-y-1">
                      <p className="text-sm font-medium">
                        Body <span className="text-xs font-normal text-zinc-500 dark:text-zinc-400">({bodyMediaType(op)})</span>
                      </p>
                      <SchemaTable schema={Object.values(op.requestBody.content)[0]?.schema ?? { $ref: "" }} components={components} />
                    </div>
                  ) : null}
                  <div className="space-y-1">
                    <p className="text-sm font-medium">Responses</p>
                    <ul className="space-y-1 text-sm">
                      {Object.entries(op.responses).map(([status, response]) => (
                        <li key={status}>
                          <span className="font-mono">{status}</span> — {response.description}
                          {response.content?.["application/json"]?.schema.$ref ? (
                            <span className="text-xs text-zinc-500 dark:text-zinc-400"> ({response.content["application/json"].schema.$ref.split("/").at(-1)})</span>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  </div>
                  <TryIt
                    method={method}
                    path={path}
                    pathParams={[...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "")}
                    body={op.requestBody ? (bodyMediaType(op) === "multipart/form-data" ? "multipart" : "json") : "none"}
                    exampleBody={exampleBodies[op.operationId] ? JSON.stringify(exampleBodies[op.operationId], null, 2) : undefined}
                  />
                </article>
              ))}
          </div>
        ))}
        <div className="space-y-4">
          <h3 className="text-lg font-semibold">Objects</h3>
          {["Conversation", "Message", "Document", "ApiKey", "Problem"].map((name) => (
            <div key={name} className="space-y-1">
              <h4 className="font-mono text-sm font-semibold">{name}</h4>
              <SchemaTable schema={{ $ref: `#/components/schemas/${name}` }} components={components} />
            </div>
          ))}
        </div>
      </Section>
    </main>
  );
}
