import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness";

/**
 * Bodies are read only up to their route's limit, with or without Content-Length: a chunked body
 * that goes on and on is cut off after the limit plus the chunk that crossed it, its stream
 * cancelled, and the answer is 413. The source below counts what the handler pulled from it; it
 * stops at 64 MiB so that code reading everything fails here instead of hanging.
 */

const CHUNK = 64 * 1024;
const BACKSTOP = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

function endlessBody(byte = 0x20) {
  const chunk = new Uint8Array(CHUNK).fill(byte);
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled >= BACKSTOP) return controller.close();
        state.pulled += CHUNK;
        controller.enqueue(chunk);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    // Nothing is read ahead: every byte pulled is a byte the handler asked for.
    { highWaterMark: 0 },
  );
  return { stream, state };
}

function streamingRequest(path: string, body: ReadableStream<Uint8Array>, headers: Record<string, string>): Request {
  // No Content-Length: the body is sent chunked, its size unknown until it ends.
  const init: RequestInit & { duplex: "half" } = { method: "POST", headers: { origin: "http://localhost", ...headers }, body, duplex: "half" };
  return new Request(`http://localhost${path}`, init);
}

let h: Harness;
let cookie: string;

beforeAll(async () => {
  h = await startHarness();
  cookie = (await h.signUp()).cookie;
});
afterAll(() => h.close());

async function expectCutOff(response: Response, state: { pulled: number; cancelled: boolean }, limit: number) {
  expect(state.pulled).toBeLessThanOrEqual(limit + CHUNK);
  expect(state.cancelled).toBe(true);
  expect(response.status).toBe(413);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as { code: string; max_bytes: number };
  expect(problem.code).toBe("payload_too_large");
  expect(problem.max_bytes).toBe(limit);
}

describe("unbounded request bodies", () => {
  it("sign-up (no credentials) stops reading at MAX_AUTH_BODY_BYTES", async () => {
    const signUp = await import("@/app/api/auth/sign-up/route");
    const { stream, state } = endlessBody();
    const response = await signUp.POST(streamingRequest("/api/auth/sign-up", stream, { "content-type": "application/json" }));
    await expectCutOff(response, state, 32 * 1024);
  });

  it("next-auth's credentials callback stops reading at MAX_AUTH_BODY_BYTES", async () => {
    const nextAuth = await import("@/app/api/auth/[...nextauth]/route");
    const { stream, state } = endlessBody(0x61);
    const request = streamingRequest("/api/auth/callback/credentials", stream, { "content-type": "application/x-www-form-urlencoded" });
    const { NextRequest } = await import("next/server");
    const response = await nextAuth.POST(new NextRequest(request), { params: Promise.resolve({ nextauth: ["callback", "credentials"] }) });
    await expectCutOff(response, state, 32 * 1024);
  });

  it("a /api/v1 JSON route stops reading at MAX_JSON_BODY_BYTES", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const { stream, state } = endlessBody();
    const response = await conversations.POST(streamingRequest("/api/v1/conversations", stream, { "content-type": "application/json", cookie }));
    await expectCutOff(response, state, MiB);
  });

  it("an upload stops reading at MAX_UPLOAD_BYTES (plus the multipart framing)", async () => {
    const documents = await import("@/app/api/v1/documents/route");
    const { stream, state } = endlessBody();
    const response = await documents.POST(
      streamingRequest("/api/v1/documents", stream, { "content-type": "multipart/form-data; boundary=x", cookie }),
    );
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe("file_too_large");
    expect(state.pulled).toBeLessThanOrEqual(25 * MiB + 64 * 1024 + CHUNK);
    expect(state.cancelled).toBe(true);
  });

  it("a body within the limit is read whole", async () => {
    const conversations = await import("@/app/api/v1/conversations/route");
    const text = JSON.stringify({ title: "x".repeat(150) });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // Many small chunks, as a client writing a chunked body sends them.
        for (const part of text.match(/.{1,7}/gs) ?? []) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    const response = await conversations.POST(streamingRequest("/api/v1/conversations", stream, { "content-type": "application/json", cookie }));
    expect(response.status).toBe(201);
    expect(((await response.json()) as { conversation: { title: string } }).conversation.title).toBe("x".repeat(150));
  });
});
