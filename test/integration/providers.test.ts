import { streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTextTokens } from "../mock-llm/server";
import { startHarness, type Harness } from "../support/harness";

let h: Harness;
let providers: typeof import("@/lib/ai/providers");

beforeAll(async () => {
  // openai:* over Chat Completions instead of the Responses API.
  h = await startHarness({ OPENAI_API: "chat" });
  providers = await import("@/lib/ai/providers");
});
afterAll(() => h.close());

async function run(id: string) {
  const { model } = providers.resolveModel(id);
  const result = streamText({ model, prompt: "ping", maxRetries: 0 });
  let text = "";
  for await (const delta of result.textStream) text += delta;
  return { text, usage: await result.usage, request: h.mock.requests.at(-1) };
}

describe("provider registry against the mock LLM's real protocols", () => {
  it("openai:* over Chat Completions streams and reads usage from the final chunk", async () => {
    const { text, usage, request } = await run("openai:gpt-4o-mini");
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.body.stream_options).toEqual({ include_usage: true });
    expect(request?.headers.authorization).toBe("Bearer sk-test-mock");
    expect(text).toContain('you said "ping"');
    expect(usage.outputTokens).toBe(countTextTokens(text));
  });

  it("groq:* reads usage from x_groq", async () => {
    const { usage, request } = await run("groq:llama-3.3-70b-versatile");
    expect(request?.path).toBe("/groq/openai/v1/chat/completions");
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
  });

  it("ollama:* works with any OpenAI-compatible server", async () => {
    const { text, usage, request } = await run("ollama:llama3.1");
    expect(request?.body.model).toBe("llama3.1");
    expect(text.length).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
  });

  it("rejects unknown providers and malformed ids with model_not_found", () => {
    expect(() => providers.resolveModel("acme:model")).toThrow(expect.objectContaining({ code: "model_not_found", status: 404 }));
    expect(() => providers.resolveModel("gpt-4o")).toThrow(/not a provider:model id this server knows/);
  });
});
