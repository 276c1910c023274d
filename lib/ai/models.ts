/**
 * What we know about models: context window, output limit and price per million tokens (USD).
 * The context-budget issue extends this with tokenizer families and config overrides.
 */
export type ProviderId = "openai" | "groq" | "ollama" | "offline";

export type ModelInfo = {
  provider: ProviderId;
  name: string;
  contextWindow: number;
  maxOutputTokens: number;
  inputPerMillion: number;
  outputPerMillion: number;
};

export const OFFLINE_MODEL_ID = "offline:bot-gpt-offline";

const catalog: ModelInfo[] = [
  { provider: "openai", name: "gpt-4o-mini", contextWindow: 128_000, maxOutputTokens: 16_384, inputPerMillion: 0.15, outputPerMillion: 0.6 },
  { provider: "openai", name: "gpt-4o", contextWindow: 128_000, maxOutputTokens: 16_384, inputPerMillion: 2.5, outputPerMillion: 10 },
  { provider: "openai", name: "gpt-4.1-mini", contextWindow: 1_047_576, maxOutputTokens: 32_768, inputPerMillion: 0.4, outputPerMillion: 1.6 },
  { provider: "openai", name: "gpt-4.1", contextWindow: 1_047_576, maxOutputTokens: 32_768, inputPerMillion: 2, outputPerMillion: 8 },
  { provider: "groq", name: "llama-3.1-8b-instant", contextWindow: 131_072, maxOutputTokens: 8_192, inputPerMillion: 0.05, outputPerMillion: 0.08 },
  { provider: "groq", name: "llama-3.3-70b-versatile", contextWindow: 131_072, maxOutputTokens: 32_768, inputPerMillion: 0.59, outputPerMillion: 0.79 },
  { provider: "offline", name: "bot-gpt-offline", contextWindow: 32_768, maxOutputTokens: 1_024, inputPerMillion: 0, outputPerMillion: 0 },
];

// Unknown models (a custom OpenAI-compatible server, a new release) get conservative defaults.
const FALLBACK_LIMITS = { contextWindow: 8_192, maxOutputTokens: 2_048, inputPerMillion: 0, outputPerMillion: 0 };

export function parseModelId(id: string): { provider: string; name: string } | null {
  const index = id.indexOf(":");
  if (index <= 0 || index === id.length - 1) return null;
  return { provider: id.slice(0, index), name: id.slice(index + 1) };
}

export function knownModels(provider: ProviderId): ModelInfo[] {
  return catalog.filter((m) => m.provider === provider);
}

export function modelInfo(provider: ProviderId, name: string): ModelInfo {
  return catalog.find((m) => m.provider === provider && m.name === name) ?? { provider, name, ...FALLBACK_LIMITS };
}

export function costUsd(info: ModelInfo, promptTokens: number, completionTokens: number): number {
  const cost = (promptTokens * info.inputPerMillion + completionTokens * info.outputPerMillion) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}
