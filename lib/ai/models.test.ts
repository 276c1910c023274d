import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { costUsd, knownModels, modelInfo, type ModelConfig } from "./models";

const plain: ModelConfig = { overrides: {}, ollamaNumCtx: 4_096 };

describe("the model catalog", () => {
  it("gives every known model a tokenizer and a cache price no higher than its input price", () => {
    const all = (["openai", "groq", "offline"] as const).flatMap((p) => knownModels(p, plain));
    expect(all.length).toBeGreaterThan(5);
    for (const m of all) {
      expect(m.maxOutputTokens).toBeLessThan(m.contextWindow);
      expect(m.cachedInputPerMillion).toBeLessThanOrEqual(m.inputPerMillion);
    }
    expect(modelInfo("openai", "gpt-4o-mini", plain)).toMatchObject({ tokenizer: "o200k", cachedInputPerMillion: 0.075 });
    expect(modelInfo("groq", "llama-3.3-70b-versatile", plain).tokenizer).toBe("llama3");
  });

  it("gives unknown models conservative limits and the tokenizer their name suggests", () => {
    expect(modelInfo("ollama", "llama3.1:8b", plain)).toMatchObject({ contextWindow: 4_096, maxOutputTokens: 1_024, tokenizer: "llama3", inputPerMillion: 0 });
    expect(modelInfo("ollama", "mistral", { ...plain, ollamaNumCtx: 32_768 })).toMatchObject({ contextWindow: 32_768, tokenizer: "estimate" });
    expect(modelInfo("openai", "gpt-5-mini", plain)).toMatchObject({ contextWindow: 8_192, tokenizer: "o200k" });
    expect(modelInfo("openai", "gpt-4", plain).tokenizer).toBe("cl100k");
  });

  it("applies MODEL_OVERRIDES over the catalog and lists models only an override describes", () => {
    const config: ModelConfig = {
      overrides: {
        "ollama:llama3.1": { context_window: 8_192, max_output_tokens: 1_024, input_per_million: 0, output_per_million: 0 },
        "openai:gpt-4o": { context_window: 64_000 },
        "openai:my-finetune": { context_window: 16_384, tokenizer: "cl100k", input_per_million: 3, output_per_million: 12 },
      },
      ollamaNumCtx: 4_096,
    };
    expect(modelInfo("ollama", "llama3.1", config)).toMatchObject({ contextWindow: 8_192, maxOutputTokens: 1_024, tokenizer: "llama3" });
    expect(modelInfo("openai", "gpt-4o", config)).toMatchObject({ contextWindow: 64_000, maxOutputTokens: 16_000, inputPerMillion: 2.5, cachedInputPerMillion: 1.25 });
    // A new input price without a cached one is not paired with the old discount.
    expect(modelInfo("openai", "my-finetune", config)).toMatchObject({ tokenizer: "cl100k", inputPerMillion: 3, cachedInputPerMillion: 3, outputPerMillion: 12 });
    expect(knownModels("openai", config).map((m) => m.name)).toContain("my-finetune");
    expect(knownModels("groq", config).map((m) => m.name)).not.toContain("my-finetune");
  });

  it("calls a model priced only when the catalog or an override names both its input and output price", () => {
    const config: ModelConfig = {
      overrides: {
        "openai:o3-pro": { context_window: 200_000 },
        "openai:half-priced": { input_per_million: 20 },
        "ollama:llama3.1": { input_per_million: 0, output_per_million: 0 },
        "openai:gpt-4o": { context_window: 64_000 },
      },
      ollamaNumCtx: 4_096,
    };
    expect(modelInfo("openai", "gpt-4o-mini", plain).priced).toBe(true);
    expect(modelInfo("offline", "bot-gpt-offline", plain).priced).toBe(true);
    expect(modelInfo("openai", "o1-pro", plain).priced).toBe(false);
    expect(modelInfo("openai", "o3-pro", config).priced).toBe(false);
    expect(modelInfo("openai", "half-priced", config).priced).toBe(false);
    expect(modelInfo("ollama", "llama3.1", config).priced).toBe(true);
    expect(modelInfo("ollama", "mistral", config).priced).toBe(false);
    expect(modelInfo("openai", "gpt-4o", config).priced).toBe(true);
  });
});

describe("costUsd", () => {
  it("prices cached prompt tokens at the cached rate", () => {
    const info = modelInfo("openai", "gpt-4o", plain);
    expect(costUsd(info, 1_000_000, 0)).toBe(2.5);
    expect(costUsd(info, 1_000_000, 0, 400_000)).toBe(0.6 * 2.5 + 0.4 * 1.25);
    expect(costUsd(info, 1_000, 1_000, 5_000)).toBe((1_000 * 1.25 + 1_000 * 10) / 1_000_000);
  });
});

describe("MODEL_OVERRIDES", () => {
  it("parses a JSON object keyed by model id", () => {
    const env = parseEnv({ MODEL_OVERRIDES: '{"ollama:llama3.1": {"context_window": 8192, "max_output_tokens": 1024}}', OLLAMA_NUM_CTX: "16384" });
    expect(env.MODEL_OVERRIDES).toEqual({ "ollama:llama3.1": { context_window: 8_192, max_output_tokens: 1_024 } });
    expect(env.OLLAMA_NUM_CTX).toBe(16_384);
    expect(parseEnv({}).MODEL_OVERRIDES).toEqual({});
  });

  it("fails at start, naming the variable, on a bad value", () => {
    expect(() => parseEnv({ MODEL_OVERRIDES: "{not json" })).toThrow(/MODEL_OVERRIDES: must be a JSON object/);
    expect(() => parseEnv({ MODEL_OVERRIDES: '{"gpt-4o": {}}' })).toThrow(/MODEL_OVERRIDES/);
    expect(() => parseEnv({ MODEL_OVERRIDES: '{"ollama:x": {"context_windw": 8192}}' })).toThrow(/MODEL_OVERRIDES\.ollama:x: .*context_windw/);
    expect(() => parseEnv({ MODEL_OVERRIDES: '{"ollama:x": {"tokenizer": "sentencepiece"}}' })).toThrow(/MODEL_OVERRIDES\.ollama:x\.tokenizer/);
    expect(() => parseEnv({ MODEL_OVERRIDES: '{"ollama:x": {"context_window": 4096, "max_output_tokens": 4096}}' })).toThrow(/max_output_tokens must be below/);
    expect(() => parseEnv({ OLLAMA_NUM_CTX: "lots" })).toThrow(/OLLAMA_NUM_CTX/);
  });
});
