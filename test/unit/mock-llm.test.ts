import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MockLlmServer } from "../mock-llm/server";

let mock: MockLlmServer;
let base: string;

beforeAll(async () => {
  mock = new MockLlmServer();
  base = await mock.listen();
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const headers = { authorization: "Bearer k", "content-type": "application/json" };
const chat = (body: Record<string, unknown> = {}, signal?: AbortSignal) =>
  fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], ...body }),
    signal,
  });

describe("mock LLM fault switches", () => {
  it("answers 429 with Retry-After, then recovers", async () => {
    mock.pushFault({ type: "status", status: 429, retryAfterSeconds: 3 });
    const limited = await chat();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect((await chat()).status).toBe(200);
  });

  it("answers 500 and 503", async () => {
    mock.pushFault({ type: "status", status: 500 }, { type: "status", status: 503 });
    expect((await chat()).status).toBe(500);
    expect((await chat()).status).toBe(503);
  });

  it("delays the first byte", async () => {
    mock.pushFault({ type: "slow-first-byte", delayMs: 300 });
    const started = performance.now();
    const res = await chat();
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
  });

  it("resets the connection mid-stream", async () => {
    mock.pushFault({ type: "reset", afterChunks: 2 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("hangs until the client gives up", async () => {
    mock.pushFault({ type: "hang" });
    await expect(chat({}, AbortSignal.timeout(200))).rejects.toThrow(/abort|timeout/i);
    await expect.poll(() => mock.closedEarly).toBe(1);
  });

  it("requires a bearer key like the real APIs", async () => {
    const res = await fetch(`${base}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });
});
