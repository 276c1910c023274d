import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { countBpeTokens } from "../../lib/context/bpe-count.mjs";

/**
 * A mock LLM server speaking the providers' real wire protocols over loopback:
 * OpenAI Chat Completions (streaming with `stream_options.include_usage`), OpenAI Responses
 * (streaming events), Groq's `x_groq.usage` (under /groq/…), OpenAI-compatible /models and
 * embeddings. Faults are queued through the control API (`POST /__mock/faults`) so tests can make
 * the next call fail: 429 + Retry-After, 500/503, reset mid-stream, slow first byte, hang.
 * Usage is counted exactly as OpenAI counts it (o200k), so tests can assert the tokens BOT GPT sends.
 */

export type Fault =
  | { type: "status"; status: number; retryAfterSeconds?: number; message?: string }
  | { type: "reset"; afterChunks: number }
  /** Sends `afterChunks` events, then goes silent with the connection open (a hang mid-stream). */
  | { type: "stall"; afterChunks: number }
  | { type: "slow-first-byte"; delayMs: number }
  | { type: "hang" };

export type MockSettings = {
  /** Fixed reply text; by default the reply echoes the last user message. */
  reply?: string;
  /** Delay between streamed chunks. */
  chunkDelayMs: number;
  /** Delay before the first chunk (time to first token). */
  ttftMs: number;
  /** Refuse, as OpenAI does, a request whose prompt plus requested max output exceeds this. */
  contextWindow?: number;
  /** Send no usage at all, like providers that omit it. */
  omitUsage?: boolean;
  /** Report this many prompt tokens (capped at the prompt) as cached. */
  cachedPromptTokens?: number;
  /** false: keep no record of requests (load tests sending thousands); unset or true records them. */
  record?: boolean;
};

type Cut = { afterChunks: number; how: "reset" | "stall" };

export type RecordedRequest = {
  path: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** Exact prompt tokens of a chat completions or responses request; 0 for other routes. */
  promptTokens: number;
};

export type Message = { role?: string; content?: unknown };

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : ""))
      .join("");
  }
  return "";
}

/**
 * Tokens in `text` as OpenAI's o200k models count them; `<|endoftext|>` and the like are plain
 * text. The mock runs inside the test process, so it counts with the app's bounded counter (equal
 * to the exact count for ordinary text) and a long run cannot stall the process under test.
 */
export function countTextTokens(text: string): number {
  return countBpeTokens("o200k", text);
}

/** Same as `countTextTokens`; kept because test/integration/openai-compat.test.ts imports it. */
export const mockTokenCount = countTextTokens;

/**
 * Prompt tokens as OpenAI bills them (OpenAI cookbook): each message's content plus 4 tokens of
 * framing, plus 3 that prime the reply.
 */
export function countPromptTokens(messages: readonly Message[]): number {
  return messages.reduce((n, m) => n + countTextTokens(textOf(m.content)) + 4, 3);
}

/** The Responses API's prompt as chat messages: `instructions` is a system message, each `input` item a message. */
function responsesMessages(body: Record<string, unknown>): Message[] {
  const system = typeof body.instructions === "string" ? [{ role: "system", content: body.instructions }] : [];
  if (typeof body.input === "string") return [...system, { role: "user", content: body.input }];
  return [...system, ...(Array.isArray(body.input) ? (body.input as Message[]) : [])];
}

/** The messages a generation request prompts with, or null for routes that are not generation. */
function promptMessagesOf(path: string, body: Record<string, unknown>): Message[] | null {
  if (path.endsWith("/chat/completions")) return Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  if (path.endsWith("/responses")) return responsesMessages(body);
  return null;
}

/** The output the request reserves: `max_output_tokens` (Responses) or `max_completion_tokens`/`max_tokens`. */
function requestedCompletionTokens(path: string, body: Record<string, unknown>): number {
  const asked = path.endsWith("/responses") ? body.max_output_tokens : (body.max_completion_tokens ?? body.max_tokens);
  return typeof asked === "number" ? asked : 0;
}

export function mockReplyFor(lastUserText: string): string {
  return `Mock reply: you said "${lastUserText.slice(0, 200)}". This answer streams in several chunks.`;
}

const WORDS = /[a-z0-9]{3,}/g;

/**
 * What a well-behaved model does with BOT GPT's grounded prompt: answer from the passage that
 * shares most words with the question, quoting its best sentence with the passage's number, or
 * say the documents do not cover it when told nothing relevant was found.
 */
function mockGroundedReply(systemText: string, question: string): string | null {
  if (systemText.includes("No passage in the user's documents is relevant")) {
    return "Your documents do not cover this question, so I can't answer it from them.";
  }
  const passages = [...systemText.matchAll(/<<<passage (\w+) \[(\d+)\] ([^\n]*)>>>\n([\s\S]*?)\n<<<end passage \1 \[\2\]>>>/g)].map((m) => ({
    index: Number(m[2]),
    source: (m[3] ?? "").trim(),
    text: m[4] ?? "",
  }));
  if (passages.length === 0) return null;
  const wanted = new Set(question.toLowerCase().match(WORDS) ?? []);
  const overlap = (text: string) => (text.toLowerCase().match(WORDS) ?? []).filter((w) => wanted.has(w)).length;
  let best = { index: passages[0]!.index, source: passages[0]!.source, sentence: "", hits: -1 };
  for (const passage of passages) {
    for (const sentence of passage.text.split(/(?<=[.!?])\s+|\n+/)) {
      const hits = overlap(sentence);
      if (hits > best.hits) best = { index: passage.index, source: passage.source, sentence: sentence.trim(), hits };
    }
  }
  return `According to ${best.source}: ${best.sentence} [${best.index}]`;
}

function chunkText(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MockLlmServer {
  private server: http.Server;
  private faults: Fault[] = [];
  private sockets = new Set<import("node:net").Socket>();
  readonly requests: RecordedRequest[] = [];
  /** The largest prompt (in tokens) any generation request carried since the last reset. */
  maxPromptTokens = 0;
  settings: MockSettings = { chunkDelayMs: 5, ttftMs: 0 };
  /** Requests whose client went away before the response finished (aborted provider calls). */
  closedEarly = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: String(error), type: "server_error" } }));
      });
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  pushFault(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  reset(): void {
    this.faults = [];
    this.requests.length = 0;
    this.maxPromptTokens = 0;
    this.closedEarly = 0;
    this.settings = { chunkDelayMs: 5, ttftMs: 0 };
  }

  private async readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://mock");
    const path = url.pathname;
    const body = req.method === "POST" ? await this.readBody(req) : {};

    if (path.startsWith("/__mock/")) return this.control(path, body, res);
    const prompt = promptMessagesOf(path, body);
    const promptTokens = prompt ? countPromptTokens(prompt) : 0;
    if (this.settings.record !== false) this.requests.push({ path, body, headers: req.headers, promptTokens });
    if (prompt) this.maxPromptTokens = Math.max(this.maxPromptTokens, promptTokens);

    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || auth.length <= "Bearer ".length) {
      return this.sendJson(res, 401, { error: { message: "Missing API key", type: "invalid_request_error" } });
    }
    if (req.method === "GET" && path.endsWith("/models")) {
      return this.sendJson(res, 200, {
        object: "list",
        data: [{ id: "mock-model", object: "model", created: 0, owned_by: "mock" }],
      });
    }

    const { contextWindow } = this.settings;
    const completion = requestedCompletionTokens(path, body);
    if (prompt && typeof contextWindow === "number" && promptTokens + completion > contextWindow) {
      // OpenAI's exact refusal; it is checked before the request reaches a model, so no fault is used up.
      return this.sendJson(res, 400, {
        error: {
          message: `This model's maximum context length is ${contextWindow} tokens. However, you requested ${promptTokens + completion} tokens (${promptTokens} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded",
        },
      });
    }

    const fault = this.faults.shift();
    let cut: Cut | undefined;
    if (fault?.type === "status") {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      return this.sendJson(res, fault.status, { error: { message: fault.message ?? `mock status ${fault.status}`, type: "server_error" } }, headers);
    }
    if (fault?.type === "hang") {
      req.socket.on("close", () => (this.closedEarly += 1));
      return; // never answers; the client must time out or abort
    }
    if (fault?.type === "slow-first-byte") {
      await sleep(fault.delayMs);
      if (req.socket.destroyed) {
        this.closedEarly += 1; // the client gave up waiting
        return;
      }
    }
    if (fault?.type === "reset" || fault?.type === "stall") cut = { afterChunks: fault.afterChunks, how: fault.type };

    if (path.endsWith("/embeddings")) return this.embeddings(body, res);
    const groq = path.startsWith("/groq/");
    if (path.endsWith("/chat/completions")) return this.chatCompletions(body, req, res, { groq, cut, promptTokens });
    if (path.endsWith("/responses")) return this.responses(body, req, res, { cut, promptTokens });
    return this.sendJson(res, 404, { error: { message: `no route ${path}`, type: "invalid_request_error" } });
  }

  private control(path: string, body: Record<string, unknown>, res: http.ServerResponse) {
    if (path === "/__mock/faults") {
      this.pushFault(...((body.faults as Fault[] | undefined) ?? []));
      return this.sendJson(res, 200, { queued: this.faults.length });
    }
    if (path === "/__mock/settings") {
      this.settings = { ...this.settings, ...(body as Partial<MockSettings>) };
      return this.sendJson(res, 200, this.settings);
    }
    if (path === "/__mock/reset") {
      this.reset();
      return this.sendJson(res, 200, { ok: true });
    }
    if (path === "/__mock/requests") {
      return this.sendJson(res, 200, { requests: this.requests, closed_early: this.closedEarly, max_prompt_tokens: this.maxPromptTokens });
    }
    return this.sendJson(res, 404, { error: "unknown control path" });
  }

  private sendJson(res: http.ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(data));
  }

  private replyFor(messages: Message[]): string {
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const question = textOf(lastUser?.content).trim();
    const system = messages
      .filter((m) => m.role === "system" || m.role === "developer")
      .map((m) => textOf(m.content))
      .join("\n");
    return this.settings.reply ?? mockGroundedReply(system, question) ?? mockReplyFor(question);
  }

  /** Prompt tokens reported as cached: the setting, capped at the prompt. */
  private cachedTokens(promptTokens: number): number {
    return Math.min(Math.max(0, this.settings.cachedPromptTokens ?? 0), promptTokens);
  }

  /** Writes SSE chunks with the configured pacing; stops early if the client went away. */
  private async writeStream(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    events: string[],
    cut: Cut | undefined,
  ): Promise<void> {
    let gone = false;
    res.on("close", () => {
      if (!res.writableFinished) {
        gone = true;
        this.closedEarly += 1;
      }
    });
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    if (this.settings.ttftMs > 0) await sleep(this.settings.ttftMs);
    for (let i = 0; i < events.length; i++) {
      if (gone) return;
      if (cut && i >= cut.afterChunks) {
        // A reset tears the connection down; a stall leaves it open and silent until the client leaves.
        if (cut.how === "reset") req.socket.destroy();
        return;
      }
      res.write(events[i]);
      if (this.settings.chunkDelayMs > 0 && i < events.length - 1) await sleep(this.settings.chunkDelayMs);
    }
    res.end();
  }

  private chatCompletions(
    body: Record<string, unknown>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    options: { groq: boolean; cut?: Cut; promptTokens: number },
  ) {
    const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
    const model = String(body.model ?? "mock-model");
    const text = this.replyFor(messages);
    const { promptTokens } = options;
    const completionTokens = countTextTokens(text);
    const usage = this.settings.omitUsage
      ? undefined
      : {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          ...(this.settings.cachedPromptTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: this.cachedTokens(promptTokens) } }),
        };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      return this.sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage,
      });
    }
    const base = { id, object: "chat.completion.chunk", created, model };
    const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
    const events = [sse({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })];
    for (const piece of chunkText(text)) {
      events.push(sse({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }));
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (options.groq) {
      // Groq reports usage on the final chunk under x_groq.
      events.push(sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], x_groq: { id: `req_${id}`, ...(usage && { usage }) } }));
    } else {
      events.push(sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }));
      if (includeUsage && usage) events.push(sse({ ...base, choices: [], usage }));
    }
    events.push("data: [DONE]\n\n");
    return this.writeStream(req, res, events, options.cut);
  }

  private responses(
    body: Record<string, unknown>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    options: { cut?: Cut; promptTokens: number },
  ) {
    const text = this.replyFor(responsesMessages(body));
    const { promptTokens } = options;
    const completionTokens = countTextTokens(text);
    const model = String(body.model ?? "mock-model");
    const responseId = `resp_${randomUUID().replace(/-/g, "")}`;
    const itemId = `msg_${randomUUID().replace(/-/g, "")}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const usage = this.settings.omitUsage
      ? null
      : {
          input_tokens: promptTokens,
          input_tokens_details: { cached_tokens: this.cachedTokens(promptTokens) },
          output_tokens: completionTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: promptTokens + completionTokens,
        };
    const message = {
      type: "message",
      id: itemId,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    };
    const response = {
      id: responseId,
      object: "response",
      created_at: createdAt,
      status: "completed",
      model,
      output: [message],
      incomplete_details: null,
      usage,
    };
    if (!body.stream) return this.sendJson(res, 200, response);

    let sequence = 0;
    const event = (data: Record<string, unknown>) =>
      `event: ${String(data.type)}\ndata: ${JSON.stringify({ ...data, sequence_number: sequence++ })}\n\n`;
    const events = [
      event({ type: "response.created", response: { ...response, status: "in_progress", output: [], usage: null } }),
      event({ type: "response.in_progress", response: { ...response, status: "in_progress", output: [], usage: null } }),
      event({ type: "response.output_item.added", output_index: 0, item: { ...message, status: "in_progress", content: [] } }),
      event({ type: "response.content_part.added", item_id: itemId, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }),
    ];
    for (const piece of chunkText(text)) {
      events.push(event({ type: "response.output_text.delta", item_id: itemId, output_index: 0, content_index: 0, delta: piece, logprobs: [] }));
    }
    events.push(
      event({ type: "response.output_text.done", item_id: itemId, output_index: 0, content_index: 0, text }),
      event({ type: "response.content_part.done", item_id: itemId, output_index: 0, content_index: 0, part: { type: "output_text", text, annotations: [] } }),
      event({ type: "response.output_item.done", output_index: 0, item: message }),
      event({ type: "response.completed", response }),
    );
    return this.writeStream(req, res, events, options.cut);
  }

  private embeddings(body: Record<string, unknown>, res: http.ServerResponse) {
    const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
    const dimensions = typeof body.dimensions === "number" ? body.dimensions : 16;
    const data = inputs.map((text, index) => ({ object: "embedding", index, embedding: embedText(text, dimensions) }));
    const tokens = inputs.reduce((n, t) => n + countTextTokens(t), 0);
    return this.sendJson(res, 200, {
      object: "list",
      data,
      model: String(body.model ?? "mock-embedding"),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }
}

/** Deterministic bag-of-words embedding: texts sharing words get similar, normalised vectors. */
export function embedText(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 2166136261;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 16777619);
    const slot = Math.abs(hash) % dimensions;
    vector[slot] = (vector[slot] ?? 0) + 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}
