import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { countPromptTokens, MockLlmServer } from "../mock-llm/server";

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

const o200k = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

/** The `data:` payloads of an SSE body, `[DONE]` included. */
async function sseData(res: Response): Promise<string[]> {
  return [...(await res.text()).matchAll(/^data: (.*)$/gm)].map((m) => m[1]!);
}

describe("mock LLM token accounting", () => {
  const system = "You are terse. <|endoftext|> is just text here.";
  const user = "How many tokens is this sentence, exactly?";
  const messages = [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
  // OpenAI cookbook: content + 4 per message, + 3 priming the reply.
  const expected = o200k(system) + 4 + o200k(user) + 4 + 3;

  it("counts prompt and completion tokens exactly as OpenAI's o200k models do", async () => {
    const res = await chat({ messages });
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: Record<string, number> };
    expect(countPromptTokens(messages)).toBe(expected);
    expect(body.usage.prompt_tokens).toBe(expected);
    expect(body.usage.completion_tokens).toBe(o200k(body.choices[0]!.message.content));
    expect(body.usage.total_tokens).toBe(expected + body.usage.completion_tokens!);
    expect(body.usage).not.toHaveProperty("prompt_tokens_details");
    expect(mock.requests[0]?.promptTokens).toBe(expected);
  });

  it("counts Responses instructions as a system message and input items as messages", async () => {
    const res = await fetch(`${base}/v1/responses`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "m", instructions: system, input: [{ role: "user", content: [{ type: "input_text", text: user }] }] }),
    });
    const body = (await res.json()) as { usage: { input_tokens: number } };
    expect(body.usage.input_tokens).toBe(expected);
  });

  it("records each request's prompt tokens and the largest since reset", async () => {
    await chat({ messages });
    await chat();
    const recorded = (await (await fetch(`${base}/__mock/requests`)).json()) as { requests: Array<{ promptTokens: number }>; max_prompt_tokens: number };
    const short = o200k("hi") + 4 + 3;
    expect(recorded.requests.map((r) => r.promptTokens)).toEqual([expected, short]);
    expect(recorded.max_prompt_tokens).toBe(expected);
    mock.reset();
    expect(mock.maxPromptTokens).toBe(0);
  });

  it("refuses a request over contextWindow exactly as OpenAI does", async () => {
    await fetch(`${base}/__mock/settings`, { method: "POST", headers, body: JSON.stringify({ contextWindow: expected + 100 }) });
    expect((await chat({ messages, max_tokens: 100 })).status).toBe(200);

    const refused = await chat({ messages, max_completion_tokens: 101 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error: {
        message: `This model's maximum context length is ${expected + 100} tokens. However, you requested ${expected + 101} tokens (${expected} in the messages, 101 in the completion). Please reduce the length of the messages or completion.`,
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    });
    // The official client surfaces it as a 400 with the machine code.
    const client = new OpenAI({ apiKey: "k", baseURL: `${base}/v1`, maxRetries: 0 });
    await expect(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x".repeat(1000) }], max_tokens: expected + 100 }),
    ).rejects.toMatchObject({ status: 400, code: "context_length_exceeded" });
    // Responses reserve max_output_tokens the same way.
    const responses = await fetch(`${base}/v1/responses`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "m", instructions: system, input: user, max_output_tokens: 101 }),
    });
    expect(responses.status).toBe(400);
  });

  it("sends no usage chunk when omitUsage is set", async () => {
    mock.settings.omitUsage = true;
    const data = await sseData(await chat({ messages, stream: true, stream_options: { include_usage: true } }));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown> & { choices: Array<{ finish_reason: string | null }> });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(true);
    expect(chunks.filter((c) => "usage" in c)).toEqual([]);
    expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
    expect(await (await chat({ messages })).json()).not.toHaveProperty("usage");
    const responses = await fetch(`${base}/v1/responses`, { method: "POST", headers, body: JSON.stringify({ model: "m", input: user }) });
    expect(((await responses.json()) as { usage: unknown }).usage).toBeNull();
    mock.settings.omitUsage = false;
    const withUsage = (await sseData(await chat({ messages, stream: true, stream_options: { include_usage: true } }))).filter((d) => d.includes('"usage"'));
    expect(withUsage).toHaveLength(1);
  });

  it("reports cachedPromptTokens, capped at the prompt", async () => {
    mock.settings.cachedPromptTokens = 5;
    const usage = ((await (await chat({ messages })).json()) as { usage: { prompt_tokens_details: { cached_tokens: number } } }).usage;
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 5 });

    mock.settings.cachedPromptTokens = 1_000_000;
    const data = await sseData(await chat({ messages, stream: true, stream_options: { include_usage: true } }));
    const last = JSON.parse(data.at(-2)!) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } };
    expect(last.usage).toMatchObject({ prompt_tokens: expected, prompt_tokens_details: { cached_tokens: expected } });

    const responses = await fetch(`${base}/v1/responses`, { method: "POST", headers, body: JSON.stringify({ model: "m", input: user }) });
    const body = (await responses.json()) as { usage: { input_tokens: number; input_tokens_details: { cached_tokens: number } } };
    expect(body.usage.input_tokens_details.cached_tokens).toBe(body.usage.input_tokens);
  });
});
