import { AppError } from "@/lib/api/errors";
import { env, type Env } from "@/lib/env";
import { log } from "@/lib/log";
import { knownModels, modelInfo, OFFLINE_MODEL_ID, parseModelId, type ModelInfo, type ProviderId } from "./models";
import { defaultModelId, isProviderConfigured, isProviderId, resolveModel, unusableReason, type ResolvedModel } from "./providers";

/**
 * Which models users may choose — what `GET /api/v1/models` lists, and nothing else:
 *
 * - with `ALLOWED_MODELS` set, exactly those ids (whose provider is configured);
 * - otherwise the catalog's models of each configured provider, the ids `MODEL_OVERRIDES`
 *   describes, the models the Ollama server reports (when `OLLAMA_BASE_URL` is set) and the
 *   default model (`CHAT_MODEL`);
 * - and in both cases the offline model, which calls nothing and costs nothing.
 *
 * An id outside the list is 404 `model_not_found` wherever a model is chosen. A conversation whose
 * stored model has since left the list stays readable; a new turn on it is 422
 * `model_not_available` until its owner picks a listed model.
 */

export type AvailableModel = ModelInfo & { id: string; isDefault: boolean };

const DISCOVERY_TTL_MS = 30_000;
let ollamaCache: { at: number; names: string[] } | undefined;

/**
 * Models the Ollama (or other OpenAI-compatible) server reports, cached briefly. A failed look-up
 * keeps the last list it had, so a blip does not make its conversations unusable.
 */
async function discoverOllamaModels(): Promise<string[]> {
  if (!env.OLLAMA_BASE_URL) return [];
  if (ollamaCache && Date.now() - ollamaCache.at < DISCOVERY_TTL_MS) return ollamaCache.names;
  let names = ollamaCache?.names ?? [];
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
    // Not running: keep what we had.
  }
  ollamaCache = { at: Date.now(), names };
  return names;
}

/** Every id users may choose right now, in listing order. */
async function listedIds(): Promise<string[]> {
  const ids = new Set<string>();
  if (env.ALLOWED_MODELS.length > 0) {
    for (const id of env.ALLOWED_MODELS) ids.add(id);
  } else {
    for (const provider of ["openai", "groq", "ollama"] as const) {
      if (isProviderConfigured(provider)) for (const m of knownModels(provider)) ids.add(`${provider}:${m.name}`);
    }
    for (const name of await discoverOllamaModels()) ids.add(`ollama:${name}`);
    ids.add(defaultModelId());
  }
  ids.add(OFFLINE_MODEL_ID);
  return [...ids].filter((id) => unusableReason(id) === null);
}

/** What this server can use right now. */
export async function listAvailableModels(): Promise<AvailableModel[]> {
  const fallbackDefault = defaultModelId();
  return (await listedIds()).flatMap((id) => {
    const parsed = parseModelId(id);
    if (!parsed || !isProviderId(parsed.provider)) return [];
    return [{ ...modelInfo(parsed.provider, parsed.name), id, isDefault: id === fallbackDefault }];
  });
}

/** Whether users may choose `id` (the list above, without building all of it when it can be avoided). */
export async function isListedModel(id: string): Promise<boolean> {
  if (unusableReason(id) !== null) return false;
  if (id === OFFLINE_MODEL_ID) return true;
  if (env.ALLOWED_MODELS.length > 0) return env.ALLOWED_MODELS.includes(id);
  if (id === defaultModelId()) return true;
  const parsed = parseModelId(id)!;
  const provider = parsed.provider as ProviderId;
  if (knownModels(provider).some((m) => m.name === parsed.name)) return true;
  return provider === "ollama" && (await discoverOllamaModels()).includes(parsed.name);
}

/** A model a caller is choosing (a new or changed conversation, a completion): 404 unless listed. */
export async function chooseModel(id: string): Promise<ResolvedModel> {
  if (!(await isListedModel(id))) {
    throw new AppError("model_not_found", `The model "${id}" does not exist on this server. GET /api/v1/models lists the models you can use.`, {
      extensions: { model: id },
    });
  }
  return resolveModel(id);
}

/** A conversation's stored model, for a new turn: 422 when this server no longer offers it. */
export async function conversationModel(id: string): Promise<ResolvedModel> {
  if (!(await isListedModel(id))) {
    throw new AppError(
      "model_not_available",
      `This conversation uses "${id}", which this server no longer offers. Choose another model (PATCH /api/v1/conversations/{id} with "model", or the model picker) to continue it.`,
      { extensions: { model: id } },
    );
  }
  return resolveModel(id);
}

type ModelSettings = Pick<
  Env,
  "CHAT_MODEL" | "SUMMARY_MODEL" | "FALLBACK_MODELS" | "ALLOWED_MODELS" | "BUDGET_USD_PER_MONTH" | "API_KEY_BUDGET_USD_PER_MONTH"
>;

/**
 * Start-up check of the model settings: an id naming a provider this server cannot call, or a
 * CHAT_MODEL outside ALLOWED_MODELS, is an error (the server would fail every turn that uses it);
 * an unpriced model where a default USD budget applies is an error for CHAT_MODEL and a warning
 * for fallbacks and summaries (they are skipped for callers under a USD budget).
 */
export function checkModelSettings(settings: ModelSettings = env): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const named: Array<{ name: string; id: string }> = [
    ...[settings.CHAT_MODEL].flatMap((id) => (id ? [{ name: "CHAT_MODEL", id }] : [])),
    ...[settings.SUMMARY_MODEL].flatMap((id) => (id ? [{ name: "SUMMARY_MODEL", id }] : [])),
    ...settings.FALLBACK_MODELS.map((id) => ({ name: "FALLBACK_MODELS", id })),
    ...settings.ALLOWED_MODELS.map((id) => ({ name: "ALLOWED_MODELS", id })),
  ];
  const usdBudget = settings.BUDGET_USD_PER_MONTH > 0 || settings.API_KEY_BUDGET_USD_PER_MONTH > 0;
  for (const { name, id } of named) {
    const reason = unusableReason(id);
    if (reason) {
      errors.push(`${name}: ${id}: ${reason}`);
      continue;
    }
    if (!usdBudget || name === "ALLOWED_MODELS") continue;
    const { provider, name: model } = parseModelId(id)!;
    if (modelInfo(provider as ProviderId, model).priced) continue;
    const message = `${name}: ${id} has no price, and a default USD budget is set: give it input_per_million and output_per_million in MODEL_OVERRIDES`;
    if (name === "CHAT_MODEL") errors.push(message);
    else warnings.push(`${message} (until then it is skipped for callers under a USD budget)`);
  }
  if (settings.CHAT_MODEL && settings.ALLOWED_MODELS.length > 0 && !settings.ALLOWED_MODELS.includes(settings.CHAT_MODEL)) {
    errors.push(`CHAT_MODEL: ${settings.CHAT_MODEL} is not in ALLOWED_MODELS, so no one could use the default model`);
  }
  return { errors, warnings };
}

/** Runs the check at start-up: warnings are logged, errors stop the server with every problem named. */
export function assertModelSettings(): void {
  const { errors, warnings } = checkModelSettings();
  for (const warning of warnings) log.warn({ setting: warning.split(":")[0] }, warning);
  if (errors.length > 0) throw new Error(`Invalid model configuration:\n${errors.map((e) => `  ${e}`).join("\n")}`);
}
