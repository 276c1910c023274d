import { describe, expect, it } from "vitest";

describe("provider registry with no keys configured", () => {
  it("defaults to the offline model and refuses unconfigured providers", async () => {
    const { defaultModelId, resolveModel } = await import("@/lib/ai/providers");
    const { listAvailableModels } = await import("@/lib/ai/catalog");
    expect(defaultModelId()).toBe("offline:bot-gpt-offline");
    expect(() => resolveModel("openai:gpt-4o-mini")).toThrow(/not configured/);
    expect(resolveModel("offline:bot-gpt-offline").provider).toBe("offline");
    const models = await listAvailableModels();
    expect(models.filter((m) => m.provider !== "ollama").map((m) => m.id)).toEqual(["offline:bot-gpt-offline"]);
    expect(models.find((m) => m.isDefault)?.id).toBe("offline:bot-gpt-offline");
  });
});
