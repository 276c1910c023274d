import { randomUUID } from "node:crypto";
import { encode } from "next-auth/jwt";
import { MockLlmServer } from "../mock-llm/server";

/**
 * Integration-test harness: a mock LLM server on loopback, environment pointing every provider at
 * it, and helpers to call route handlers the way Next.js does. Modules that read configuration
 * are imported after the environment is set.
 */

export type Harness = Awaited<ReturnType<typeof startHarness>>;

export async function startHarness(extraEnv: Record<string, string> = {}) {
  const mock = new MockLlmServer();
  const url = await mock.listen();
  Object.assign(process.env, {
    OPENAI_API_KEY: "sk-test-mock",
    OPENAI_BASE_URL: `${url}/v1`,
    GROQ_API_KEY: "gsk-test-mock",
    GROQ_BASE_URL: `${url}/groq/openai/v1`,
    OLLAMA_BASE_URL: `${url}/v1`,
    OLLAMA_API_KEY: "ollama",
    CHAT_MODEL: "openai:gpt-4o-mini",
    ...extraEnv,
  });
  const users = await import("@/lib/db/queries/users");
  const { closeDb } = await import("@/lib/db/client");

  async function signUp(name = "Test User") {
    const email = `user-${randomUUID()}@example.test`;
    const user = await users.createUser({ email, password: "correct horse battery", name });
    const token = await encode({
      token: { sub: user.id, email, name },
      secret: process.env.AUTH_SECRET ?? "",
    });
    return { user, cookie: `next-auth.session-token=${token}` };
  }

  return {
    mock,
    mockUrl: url,
    signUp,
    async close() {
      await closeDb();
      await mock.close();
    },
  };
}

type RouteHandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

export async function call(
  handler: RouteHandler,
  options: {
    method?: string;
    path?: string;
    params?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    cookie?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.cookie) headers.set("cookie", options.cookie);
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const request = new Request(`http://localhost${options.path ?? "/"}`, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    signal: options.signal,
  });
  return handler(request, { params: Promise.resolve(options.params ?? {}) });
}

export type UiChunk = { type: string; [key: string]: unknown };

/** Reads an AI SDK UI message stream (SSE) into its parts; comments are kept as heartbeats. */
export async function readUiStream(response: Response, onChunk?: (chunk: UiChunk) => void): Promise<UiChunk[]> {
  const chunks: UiChunk[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let index: number;
    while ((index = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      if (!data || data === "[DONE]") continue;
      const chunk = JSON.parse(data) as UiChunk;
      chunks.push(chunk);
      onChunk?.(chunk);
    }
  }
  return chunks;
}

export function textOf(chunks: UiChunk[]): string {
  return chunks
    .filter((c) => c.type === "text-delta")
    .map((c) => String(c.delta))
    .join("");
}

export type SseEvent = { id: number | null; chunk: UiChunk };

/** Reads an SSE reply stream keeping each event's id; `onEvent` may return false to stop reading (disconnect). */
export async function readSseEvents(response: Response, onEvent?: (event: SseEvent) => boolean | void): Promise<{ events: SseEvent[]; heartbeats: number; done: boolean }> {
  const events: SseEvent[] = [];
  let heartbeats = 0;
  let done = false;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  outer: for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    let index: number;
    while ((index = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      if (block.startsWith(":")) {
        heartbeats++;
        continue;
      }
      const lines = block.split("\n");
      const idLine = lines.find((line) => line.startsWith("id: "));
      const data = lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
      if (data === "[DONE]") {
        done = true;
        continue;
      }
      if (!data) continue;
      const event = { id: idLine ? Number(idLine.slice(4)) : null, chunk: JSON.parse(data) as UiChunk };
      events.push(event);
      if (onEvent?.(event) === false) {
        await reader.cancel();
        break outer;
      }
    }
  }
  return { events, heartbeats, done };
}
