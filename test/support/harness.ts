import { randomUUID } from "node:crypto";
import { encode } from "next-auth/jwt";
import { MockLlmServer } from "../mock-llm/server";
import { readSseEvents, type UiChunk } from "./sse";

export { readSseEvents, type SseEvent, type UiChunk } from "./sse";

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

  /** A new user with a signed-in browser session (a session row and its cookie, as sign-in makes). */
  async function signUp(name = "Test User") {
    const email = `user-${randomUUID()}@example.test`;
    const user = await users.createUser({ email, password: "correct horse battery", name });
    return { user, cookie: await sessionCookie(user.id) };
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

/** The session cookie for a new session of `userId`. */
export async function sessionCookie(userId: string): Promise<string> {
  const { startSession } = await import("@/lib/auth/session");
  const token = await encode({ token: { sub: userId, sid: await startSession(userId) }, secret: process.env.AUTH_SECRET ?? "" });
  return `next-auth.session-token=${token}`;
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


/** Reads an AI SDK UI message stream (SSE) into its parts. */
export async function readUiStream(response: Response, onChunk?: (chunk: UiChunk) => void): Promise<UiChunk[]> {
  const { events } = await readSseEvents(response, (event) => void onChunk?.(event.chunk));
  return events.map((event) => event.chunk);
}

export function textOf(chunks: UiChunk[]): string {
  return chunks
    .filter((c) => c.type === "text-delta")
    .map((c) => String(c.delta))
    .join("");
}
