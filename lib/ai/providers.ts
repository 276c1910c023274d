import { createGroq } from "@ai-sdk/groq";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { AppError } from "@/lib/api/errors";
import { env } from "@/lib/env";
import { modelInfo, OFFLINE_MODEL_ID, parseModelId, type ModelInfo, type ProviderId } from "./models";
import { OfflineLanguageModel } from "./offline-model";
import { log } from "@/lib/log";

/**
 * The provider registry: resolves `provider:model` ids to AI SDK language models. Real provider
 * packages talk to the real wire protocols (and to the mock LLM server in tests).
 */

export type ResolvedModel = {
  id: string;
  provider: ProviderId;
  name: string;
  model: LanguageModelV3;
  info: ModelInfo;
};

type ProviderFactory = { configured: () => boolean; create: (name: string) => LanguageModelV3 };

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const openai = lazy(() => createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL }));
const groq = lazy(() => createGroq({ apiKey: env.GROQ_API_KEY, baseURL: env.GROQ_BASE_URL }));
const ollama = lazy(() =>
  createOpenAICompatible({
    name: "ollama",
    // Only created once the provider is configured (factories.ollama.configured).
    baseURL: env.OLLAMA_BASE_URL ?? "",
    apiKey: env.OLLAMA_API_KEY,
    includeUsage: true,
  }),
);

const factories: Record<ProviderId, ProviderFactory> = {
  openai: {
    configured: () => Boolean(env.OPENAI_API_KEY),
    // openai("m") would pick the Responses API implicitly; say which protocol we mean.
    create: (name) => (env.OPENAI_API === "chat" ? openai().chat(name) : openai().responses(name)),
  },
  groq: { configured: () => Boolean(env.GROQ_API_KEY), create: (name) => groq()(name) },
  // Only where the operator named a server: nothing is called on a guessed localhost.
  ollama: { configured: () => Boolean(env.OLLAMA_BASE_URL), create: (name) => ollama()(name) },
  offline: { configured: () => true, create: (name) => new OfflineLanguageModel(name, env.OFFLINE_TOKEN_DELAY_MS) },
};

/** The setting that enables each provider, for messages that say how to fix a refusal. */
export const PROVIDER_SETTING: Record<ProviderId, string | null> = {
  openai: "OPENAI_API_KEY",
  groq: "GROQ_API_KEY",
  ollama: "OLLAMA_BASE_URL",
  offline: null,
};

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(factories, value);
}

export function isProviderConfigured(provider: ProviderId): boolean {
  return factories[provider].configured();
}

/**
 * CHAT_MODEL when set; else the first ALLOWED_MODELS entry this server can call; else the first
 * configured hosted provider's small model; else offline.
 */
export function defaultModelId(): string {
  if (env.CHAT_MODEL) return env.CHAT_MODEL;
  if (env.ALLOWED_MODELS.length > 0) {
    return env.ALLOWED_MODELS.find((id) => usable(id)) ?? OFFLINE_MODEL_ID;
  }
  if (factories.openai.configured()) return "openai:gpt-4o-mini";
  if (factories.groq.configured()) return "groq:llama-3.1-8b-instant";
  return OFFLINE_MODEL_ID;
}

/** Why this server cannot call `id` at all (unknown provider, provider not configured), or null. */
export function unusableReason(id: string): string | null {
  const parsed = parseModelId(id);
  if (!parsed || !isProviderId(parsed.provider)) return `"${id}" is not a provider:model id this server knows (providers: openai, groq, ollama, offline)`;
  if (!factories[parsed.provider].configured()) return `the ${parsed.provider} provider is not configured on this server (${PROVIDER_SETTING[parsed.provider]} is unset)`;
  return null;
}

const usable = (id: string) => unusableReason(id) === null;

/**
 * The registry's view of a model id: its provider must be known and configured. Whether users may
 * choose it is `lib/ai/catalog.ts`'s question; this is for ids already chosen or configured.
 */
export function resolveModel(id: string): ResolvedModel {
  const parsed = parseModelId(id);
  const reason = unusableReason(id);
  if (reason !== null || !parsed || !isProviderId(parsed.provider)) {
    throw new AppError("model_not_found", `The model "${id}" cannot be used: ${reason}. GET /api/v1/models lists the models you can use.`, {
      extensions: { model: id },
    });
  }
  const { provider, name } = parsed;
  return { id, provider, name, model: factories[provider].create(name), info: modelInfo(provider, name) };
}

export type ChainOptions = {
  /** A USD budget applies: models without a price are left out (they would spend uncounted). */
  requirePrice?: boolean;
  /** false: no offline model at the end (the OpenAI-compatible endpoint reports the failure instead). */
  offline?: boolean;
};

/**
 * The models a reply is tried on, in order: the requested one, then FALLBACK_MODELS (those this
 * server can use, each once), then the offline model, which always answers.
 */
const unusableFallbacks = new Set<string>();

export function modelChain(first: ResolvedModel, options: ChainOptions = {}): ResolvedModel[] {
  const chain = [first];
  const ids = [...env.FALLBACK_MODELS, ...(options.offline === false ? [] : [OFFLINE_MODEL_ID])];
  for (const id of ids) {
    if (chain.some((m) => m.id === id)) continue;
    let resolved: ResolvedModel;
    try {
      resolved = resolveModel(id);
    } catch {
      if (!unusableFallbacks.has(id)) log.warn({ model: id }, "FALLBACK_MODELS entry not usable on this server; skipped");
      unusableFallbacks.add(id);
      continue;
    }
    if (options.requirePrice && !resolved.info.priced) continue;
    chain.push(resolved);
  }
  return chain;
}
