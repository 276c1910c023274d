import { streamText, generateText } from "ai";
import { describe, expect, it } from "vitest";
import { OfflineLanguageModel, composeOfflineReply } from "./offline-model";

const model = new OfflineLanguageModel("bot-gpt-offline", 0);

describe("offline model", () => {
  it("streams a deterministic, honest reply token by token with usage", async () => {
    const run = async () => {
      const result = streamText({ model, messages: [{ role: "user", content: "What is the capital of France?" }] });
      const deltas: string[] = [];
      for await (const delta of result.textStream) deltas.push(delta);
      return { deltas, usage: await result.usage, finishReason: await result.finishReason };
    };
    const first = await run();
    const second = await run();
    expect(first.deltas.length).toBeGreaterThan(20);
    expect(first.deltas.join("")).toBe(second.deltas.join(""));
    const text = first.deltas.join("");
    expect(text).toContain("not an AI");
    expect(text).toContain("OPENAI_API_KEY");
    expect(text).toContain("GROQ_API_KEY");
    expect(text).toContain("OLLAMA_BASE_URL");
    expect(text).toContain("> What is the capital of France?");
    expect(first.usage.inputTokens).toBeGreaterThan(5);
    expect(first.usage.outputTokens).toBeGreaterThan(50);
    expect(first.finishReason).toBe("stop");
  });

  it("reports the turn count and prompt size it received", async () => {
    const reply = await composeOfflineReply([
      { role: "system", content: "sys" },
      { role: "user", content: [{ type: "text", text: "one" }] },
      { role: "assistant", content: [{ type: "text", text: "reply" }] },
      { role: "user", content: [{ type: "text", text: "two" }] },
    ]);
    expect(reply).toMatch(/4 messages \(2 from you\), about \d+ prompt tokens/);
    expect(reply).toContain("> two");
  });

  it("generates without streaming and honours an aborted signal", async () => {
    const result = await generateText({ model, prompt: "hi" });
    expect(result.text).toContain("offline model");
    const controller = new AbortController();
    controller.abort();
    await expect(generateText({ model, prompt: "hi", abortSignal: controller.signal, maxRetries: 0 })).rejects.toThrow();
  });
});
