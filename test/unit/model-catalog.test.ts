import { afterEach, describe, expect, it, vi } from "vitest";

/**
 * The model catalog's rules that depend on configuration read at start-up: each case loads the
 * modules afresh under its own environment.
 */

const original = { ...process.env };
afterEach(() => {
  process.env = { ...original };
  vi.resetModules();
  vi.unstubAllGlobals();
});

async function load(overrides: Record<string, string | undefined>) {
  vi.resetModules();
  process.env = { ...original, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete process.env[name];
  return {
    providers: await import("@/lib/ai/providers"),
    catalog: await import("@/lib/ai/catalog"),
  };
}

describe("ollama:* models", () => {
  it("are not usable, listed or looked up unless OLLAMA_BASE_URL is set", async () => {
    const fetched = vi.fn(() => Promise.reject(new Error("no network in this test")));
    vi.stubGlobal("fetch", fetched);
    const { providers, catalog } = await load({ OLLAMA_BASE_URL: undefined });
    expect(() => providers.resolveModel("ollama:llama3.1")).toThrow(expect.objectContaining({ code: "model_not_found", message: expect.stringMatching(/OLLAMA_BASE_URL is unset/) }));
    await expect(catalog.chooseModel("ollama:llama3.1")).rejects.toMatchObject({ code: "model_not_found", status: 404 });
    expect((await catalog.listAvailableModels()).map((m) => m.id)).toEqual(["offline:bot-gpt-offline"]);
    expect(fetched).not.toHaveBeenCalled();
  });

  it("are usable once OLLAMA_BASE_URL names a server", async () => {
    const { providers } = await load({ OLLAMA_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(providers.resolveModel("ollama:llama3.1").provider).toBe("ollama");
  });
});

describe("start-up check of the model settings", () => {
  it("names every setting that points at a model no one could use", async () => {
    const { catalog } = await load({ OPENAI_API_KEY: "", GROQ_API_KEY: "", OLLAMA_BASE_URL: undefined });
    const { errors } = catalog.checkModelSettings({
      CHAT_MODEL: "openai:gpt-4o-mini",
      SUMMARY_MODEL: "acme:summarizer",
      FALLBACK_MODELS: ["ollama:llama3.1", "offline:bot-gpt-offline"],
      ALLOWED_MODELS: [],
      BUDGET_USD_PER_MONTH: 0,
      API_KEY_BUDGET_USD_PER_MONTH: 0,
    });
    expect(errors).toEqual([
      expect.stringMatching(/^CHAT_MODEL: openai:gpt-4o-mini: .*OPENAI_API_KEY is unset/),
      expect.stringMatching(/^SUMMARY_MODEL: acme:summarizer: .*not a provider:model id/),
      expect.stringMatching(/^FALLBACK_MODELS: ollama:llama3.1: .*OLLAMA_BASE_URL is unset/),
    ]);
  });

  it("requires CHAT_MODEL in ALLOWED_MODELS, and prices where a default USD budget applies", async () => {
    const { catalog } = await load({ OPENAI_API_KEY: "sk-test", MODEL_OVERRIDES: "" });
    const settings = {
      CHAT_MODEL: "openai:o3-pro",
      SUMMARY_MODEL: undefined,
      FALLBACK_MODELS: ["openai:o1-pro", "openai:gpt-4o-mini"],
      ALLOWED_MODELS: ["openai:gpt-4o"],
      BUDGET_USD_PER_MONTH: 5,
      API_KEY_BUDGET_USD_PER_MONTH: 0,
    };
    const { errors, warnings } = catalog.checkModelSettings(settings);
    expect(errors).toEqual([expect.stringMatching(/^CHAT_MODEL: openai:o3-pro has no price/), expect.stringMatching(/^CHAT_MODEL: openai:o3-pro is not in ALLOWED_MODELS/)]);
    expect(warnings).toEqual([expect.stringMatching(/^FALLBACK_MODELS: openai:o1-pro has no price.*skipped for callers under a USD budget/)]);
    expect(() => catalog.checkModelSettings({ ...settings, BUDGET_USD_PER_MONTH: 0, CHAT_MODEL: "openai:gpt-4o" })).not.toThrow();
    expect(catalog.checkModelSettings({ ...settings, BUDGET_USD_PER_MONTH: 0, CHAT_MODEL: "openai:gpt-4o" })).toEqual({ errors: [], warnings: [] });
  });

  it("stops the server at start-up with the list of problems", async () => {
    const { catalog } = await load({ OPENAI_API_KEY: "", CHAT_MODEL: "openai:gpt-4o-mini" });
    expect(() => catalog.assertModelSettings()).toThrow(/Invalid model configuration:\n {2}CHAT_MODEL: openai:gpt-4o-mini/);
  });
});
