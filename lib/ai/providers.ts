import { createGroq } from "@ai-sdk/groq";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { AppError } from "@/lib/api/errors";
import { env } from "@/lib/env";
import { knownModels, modelInfo, OFFLINE_MODEL_ID, parseModelId, type ModelInfo, type ProviderId } from "./models";
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
    baseURL: env.OLLAMA_BASE_URL,
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
  // A local server needs no key; whether it is up is checked when listing models.
  ollama: { configured: () => true, create: (name) => ollama()(name) },
  offline: { configured: () => true, create: (name) => new OfflineLanguageModel(name, env.OFFLINE_TOKEN_DELAY_MS) },
};

function isProviderId(value: string): value is ProviderId {
  return value in factories;
}

/** CHAT_MODEL when set; otherwise the first configured hosted provider; otherwise offline. */
export function defaultModelId(): string {
  if (env.CHAT_MODEL) return env.CHAT_MODEL;
  if (factories.openai.configured()) return "openai:gpt-4o-mini";
  if (factories.groq.configured()) return "groq:llama-3.1-8b-instant";
  return OFFLINE_MODEL_ID;
}

export function resolveModel(id: string): ResolvedModel {
  const parsed = parseModelId(id);
  if (!parsed || !isProviderId(parsed.provider)) {
    throw new AppError("model_not_available", `Unknown model "${id}". Use an id from GET /api/v1/models.`);
  }
  const factory = factories[parsed.provider];
  if (!factory.configured()) {
    throw new AppError("model_not_available", `The ${parsed.provider} provider is not configured on this server.`);
  }
  return {
    id,
    provider: parsed.provider,
    name: parsed.name,
    model: factory.create(parsed.name),
    info: modelInfo(parsed.provider, parsed.name),
  };
}

/**
 * The models a reply is tried on, in order: the requested one, then FALLBACK_MODELS (those this
 * server can use, each once), then the offline model, which always answers.
 */
const unusableFallbacks = new Set<string>();

export function modelChain(first: ResolvedModel): ResolvedModel[] {
  const chain = [first];
  for (const id of [...env.FALLBACK_MODELS, OFFLINE_MODEL_ID]) {
    if (chain.some((m) => m.id === id)) continue;
    try {
      chain.push(resolveModel(id));
    } catch {
      if (!unusableFallbacks.has(id)) log.warn({ model: id }, "FALLBACK_MODELS entry not usable on this server; skipped");
      unusableFallbacks.add(id);
    }
  }
  return chain;
}

export type AvailableModel = ModelInfo & { id: string; isDefault: boolean };

let ollamaCache: { at: number; names: string[] } | undefined;

/** Models an Ollama (or other OpenAI-compatible) server reports, cached briefly. */
async function discoverOllamaModels(): Promise<string[]> {
  if (ollamaCache && Date.now() - ollamaCache.at < 30_000) return ollamaCache.names;
  let names: string[] = [];
  try {
    const response = await fetch(`${env.OLLAMA_BASE_URL.replace(/\/$/, "")}/models`, {
      signal: AbortSignal.timeout(500),
      headers: env.OLLAMA_API_KEY ? { authorization: `Bearer ${env.OLLAMA_API_KEY}` } : {},
    });
    if (response.ok) {
      const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
      names = (body.data ?? []).flatMap((m) => (typeof m.id === "string" ? [m.id] : []));
    }
  } catch {
    // Not running: nothing to list.
  }
  ollamaCache = { at: Date.now(), names };
  return names;
}

/** What this server can use right now. */
export async function listAvailableModels(): Promise<AvailableModel[]> {
  const ids = new Set<string>();
  for (const provider of ["openai", "groq"] as const) {
    if (factories[provider].configured()) for (const m of knownModels(provider)) ids.add(`${provider}:${m.name}`);
  }
  for (const name of await discoverOllamaModels()) ids.add(`ollama:${name}`);
  ids.add(OFFLINE_MODEL_ID);
  const fallbackDefault = defaultModelId();
  ids.add(fallbackDefault);
  return [...ids].flatMap((id) => {
    const parsed = parseModelId(id);
    if (!parsed || !isProviderId(parsed.provider) || !factories[parsed.provider].configured()) return [];
    return [{ ...modelInfo(parsed.provider, parsed.name), id, isDefault: id === fallbackDefault }];
  });
}
