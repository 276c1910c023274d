import { describe, expect, it } from "vitest";
import { resolveEmbeddingModel } from "./embeddings";

describe("resolveEmbeddingModel", () => {
  it("resolves openai: and ollama: ids to embedding models", () => {
    expect(resolveEmbeddingModel("openai:text-embedding-3-small").modelId).toBe("text-embedding-3-small");
    expect(resolveEmbeddingModel("ollama:nomic-embed-text").modelId).toBe("nomic-embed-text");
  });

  it("refuses providers without embeddings with a clear message", () => {
    expect(() => resolveEmbeddingModel("groq:llama-3.1-8b-instant")).toThrow(/not supported: use an openai: or ollama: embedding model/);
    expect(() => resolveEmbeddingModel("offline:bot-gpt-offline")).toThrow(/not supported/);
  });
});
