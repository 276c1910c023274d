import type { TokenizerFamily } from "@/lib/context/tokenizer-families";
import { env, type Env } from "@/lib/env";

/**
 * What we know about models: context window, output limit, tokenizer family and price per million
 * tokens (USD; cached input is what a provider charges for a prompt-cache hit). MODEL_OVERRIDES
 * corrects or adds entries; OLLAMA_NUM_CTX is the window of Ollama models nobody described.
 */
export type ProviderId = "openai" | "groq" | "ollama" | "offline";

export type ModelInfo = {
  provider: ProviderId;
  name: string;
  contextWindow: number;
  maxOutputTokens: number;
  tokenizer: TokenizerFamily;
  inputPerMillion: number;
  cachedInputPerMillion: number;
  outputPerMillion: number;
  /**
   * Whether the prices above are known (the catalog, or MODEL_OVERRIDES naming both the input and
   * the output price). An unpriced model counts $0, so a USD budget refuses it rather than let it spend.
   */
  priced: boolean;
};

export type ModelConfig = { overrides: Env["MODEL_OVERRIDES"]; ollamaNumCtx: number };

export const OFFLINE_MODEL_ID = "offline:bot-gpt-offline";

// Groq does not discount cached input for these models: the cached price is the input price.
const catalog: ModelInfo[] = [
  { provider: "openai", name: "gpt-4o-mini", contextWindow: 128_000, maxOutputTokens: 16_384, tokenizer: "o200k", inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6, priced: true },
  { provider: "openai", name: "gpt-4o", contextWindow: 128_000, maxOutputTokens: 16_384, tokenizer: "o200k", inputPerMillion: 2.5, cachedInputPerMillion: 1.25, outputPerMillion: 10, priced: true },
  { provider: "openai", name: "gpt-4.1-mini", contextWindow: 1_047_576, maxOutputTokens: 32_768, tokenizer: "o200k", inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6, priced: true },
  { provider: "openai", name: "gpt-4.1", contextWindow: 1_047_576, maxOutputTokens: 32_768, tokenizer: "o200k", inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8, priced: true },
  { provider: "groq", name: "llama-3.1-8b-instant", contextWindow: 131_072, maxOutputTokens: 8_192, tokenizer: "llama3", inputPerMillion: 0.05, cachedInputPerMillion: 0.05, outputPerMillion: 0.08, priced: true },
  { provider: "groq", name: "llama-3.3-70b-versatile", contextWindow: 131_072, maxOutputTokens: 32_768, tokenizer: "llama3", inputPerMillion: 0.59, cachedInputPerMillion: 0.59, outputPerMillion: 0.79, priced: true },
  // The offline model counts with gpt-tokenizer's default encoding, o200k.
  { provider: "offline", name: "bot-gpt-offline", contextWindow: 32_768, maxOutputTokens: 1_024, tokenizer: "o200k", inputPerMillion: 0, cachedInputPerMillion: 0, outputPerMillion: 0, priced: true },
];

// Unknown models (a custom OpenAI-compatible server, a new release) get conservative defaults.
const FALLBACK_LIMITS = { contextWindow: 8_192, maxOutputTokens: 2_048 };

/** The tokenizer an unknown model most likely uses, judged by its name. */
function guessTokenizer(name: string): TokenizerFamily {
  if (/^(gpt-4o|gpt-4\.[1-9]|gpt-5|o[1-9]\b|o[1-9]-|chatgpt-4o|gpt-oss)/.test(name)) return "o200k";
  if (/^(gpt-4|gpt-3\.5)/.test(name)) return "cl100k";
  if (/llama-?3/i.test(name)) return "llama3";
  return "estimate";
}

function defaultsFor(provider: ProviderId, name: string, config: ModelConfig): ModelInfo {
  const contextWindow = provider === "ollama" ? config.ollamaNumCtx : FALLBACK_LIMITS.contextWindow;
  return {
    provider,
    name,
    contextWindow,
    maxOutputTokens: Math.min(FALLBACK_LIMITS.maxOutputTokens, Math.floor(contextWindow / 4)),
    tokenizer: guessTokenizer(name),
    inputPerMillion: 0,
    cachedInputPerMillion: 0,
    outputPerMillion: 0,
    priced: false,
  };
}

const fromEnv = (): ModelConfig => ({ overrides: env.MODEL_OVERRIDES, ollamaNumCtx: env.OLLAMA_NUM_CTX });

export function parseModelId(id: string): { provider: string; name: string } | null {
  const index = id.indexOf(":");
  if (index <= 0 || index === id.length - 1) return null;
  return { provider: id.slice(0, index), name: id.slice(index + 1) };
}

/** The catalog's models for a provider, plus those only MODEL_OVERRIDES describes. */
export function knownModels(provider: ProviderId, config: ModelConfig = fromEnv()): ModelInfo[] {
  const names = new Set(catalog.filter((m) => m.provider === provider).map((m) => m.name));
  for (const id of Object.keys(config.overrides)) {
    const parsed = parseModelId(id);
    if (parsed?.provider === provider) names.add(parsed.name);
  }
  return [...names].map((name) => modelInfo(provider, name, config));
}

export function modelInfo(provider: ProviderId, name: string, config: ModelConfig = fromEnv()): ModelInfo {
  const base = catalog.find((m) => m.provider === provider && m.name === name) ?? defaultsFor(provider, name, config);
  const override = config.overrides[`${provider}:${name}`];
  if (!override) return base;
  const inputPerMillion = override.input_per_million ?? base.inputPerMillion;
  const contextWindow = override.context_window ?? base.contextWindow;
  return {
    ...base,
    contextWindow,
    // A smaller window named alone must still leave room for the prompt.
    maxOutputTokens: override.max_output_tokens ?? Math.min(base.maxOutputTokens, Math.floor(contextWindow / 4)),
    tokenizer: override.tokenizer ?? base.tokenizer,
    inputPerMillion,
    // A new input price without a cached one: assume no cache discount rather than a stale one.
    cachedInputPerMillion: override.cached_input_per_million ?? (override.input_per_million === undefined ? base.cachedInputPerMillion : inputPerMillion),
    outputPerMillion: override.output_per_million ?? base.outputPerMillion,
    priced: base.priced || (override.input_per_million !== undefined && override.output_per_million !== undefined),
  };
}

/** `promptTokens` includes `cachedPromptTokens`, as providers report usage. */
export function costUsd(info: ModelInfo, promptTokens: number, completionTokens: number, cachedPromptTokens = 0): number {
  const cached = Math.min(Math.max(0, cachedPromptTokens), promptTokens);
  const cost =
    ((promptTokens - cached) * info.inputPerMillion + cached * info.cachedInputPerMillion + completionTokens * info.outputPerMillion) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}
