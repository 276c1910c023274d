import { generateText } from "ai";
import { costUsd, OFFLINE_MODEL_ID } from "@/lib/ai/models";
import { resolveModel, type ResolvedModel } from "@/lib/ai/providers";
import { contextBudget, summaryTokenLimit, SUMMARY_HEADING } from "@/lib/context/assemble";
import { fitTextAsync } from "@/lib/context/fit-text";
import { extractiveSummary } from "@/lib/context/extractive-summary";
import { countTextTokens, countTextTokensAsync } from "@/lib/context/tokens";
import { getDb } from "@/lib/db/client";
import { getConversationOrThrow, historyDigest, saveSummary } from "@/lib/db/queries/conversations";
import { loadModelHistory } from "@/lib/db/queries/messages";
import type { Conversation } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { aiTelemetry } from "@/lib/telemetry";
import { log } from "@/lib/log";
import type { UsageEntry } from "@/lib/usage/ledger";
import { estimateCall, hasLimits, hasUsdLimit, loadPayer, reserveBudget, type Payer, type Reservation } from "@/lib/usage/budget";
import { AppError } from "@/lib/api/errors";
import { recordModelCall } from "./observe-model";

/**
 * Rolling conversation summaries. When turns fall out of the window, the messages since the last
 * summary are folded into it — by SUMMARY_MODEL if set, else the conversation's model, else (or if
 * that call fails, or the payer's budget has no room for it) extractively. Runs after the reply has
 * been saved, never on the reply's path; jobs for one conversation run one after another.
 */

export type SummaryJob = {
  conversation: Pick<Conversation, "id">;
  userId: string;
  apiKeyId: string | null;
  /** Who pays, with their limits (the turn's); read from the database when not given. */
  payer?: Payer;
  throughSeq: number;
};

const SUMMARY_TIMEOUT_MS = 60_000;
/** Most tokens of one message that go into the summarizer's input. */
const MESSAGE_INPUT_TOKENS = 1_500;

const INSTRUCTIONS = [
  "You maintain the running summary of a conversation between a user and an AI assistant.",
  "You receive the current summary (possibly empty) and the messages that followed it.",
  "Write the updated summary: the facts, names, numbers, decisions, the user's goals and preferences, and any open questions — everything the assistant needs to continue the conversation. Drop pleasantries and repetition.",
  "Write plain sentences or short bullet points in the language of the conversation. Output only the summary.",
].join("\n");

const running = new Map<string, Promise<void>>();

export function scheduleSummary(job: SummaryJob): void {
  const id = job.conversation.id;
  const previous = running.get(id) ?? Promise.resolve();
  const next: Promise<void> = previous
    .then(() => summarize(job))
    .catch((error: unknown) => log.error({ conversation_id: id, err: error }, "conversation summary failed"))
    .finally(() => {
      if (running.get(id) === next) running.delete(id);
    });
  running.set(id, next);
}

/** Resolves once every scheduled summary has been written (tests, graceful shutdown). */
export async function settleSummaries(): Promise<void> {
  while (running.size > 0) await Promise.all(running.values());
}

function summaryModel(conversationModel: string, requirePrice: boolean): ResolvedModel | null {
  for (const id of [env.SUMMARY_MODEL, conversationModel]) {
    if (!id || id === OFFLINE_MODEL_ID) continue;
    try {
      const resolved = resolveModel(id);
      // Under a USD budget an unpriced model would spend uncounted.
      if (!requirePrice || resolved.info.priced) return resolved;
    } catch {
      // Not usable here (no key, unknown provider): try the next.
    }
  }
  return null;
}

/**
 * Holds the summary call's spend against the payer's budgets: null when no limit applies,
 * "refused" when there is no room (the summary is then extractive, with no model call).
 */
async function reserveSummary(payer: Payer, model: ResolvedModel, prompt: string, maxTokens: number): Promise<Reservation | null | "refused"> {
  // Counting the prompt costs time; only a limited payer needs it.
  if (!hasLimits(payer)) return null;
  try {
    return await reserveBudget(payer, model, estimateCall(model.info, await countTextTokensAsync(INSTRUCTIONS + prompt, model.info.tokenizer), maxTokens));
  } catch (error) {
    if (error instanceof AppError && (error.code === "budget_exceeded" || error.code === "model_not_priced")) return "refused";
    throw error;
  }
}

async function summarize(job: SummaryJob): Promise<void> {
  const payer = job.payer ?? (await loadPayer({ userId: job.userId, apiKey: null }));
  const budget: { reservation: Reservation | null } = { reservation: null };
  try {
    await summarizeWithin(job, payer, budget);
  } finally {
    // Settled when saveSummary recorded the spend; otherwise given back.
    await budget.reservation?.release();
  }
}

async function summarizeWithin(job: SummaryJob, payer: Payer, budget: { reservation: Reservation | null }): Promise<void> {
  // Read now, not when the job was scheduled: the job queued before this one may have written it.
  const conversation = await getConversationOrThrow({ id: job.conversation.id, userId: job.userId });
  const after = conversation.summaryThroughSeq ?? 0;
  if (after >= job.throughSeq) return;
  // What is summarized, as read now: an edit while the model writes makes the summary stale.
  const digest = await historyDigest(await getDb(), { conversationId: conversation.id, afterSeq: after, throughSeq: job.throughSeq });
  const messages = await loadModelHistory({ conversationId: conversation.id, afterSeq: after, beforeSeq: job.throughSeq + 1 });
  const sources = messages.flatMap((m) => (m.role === "user" || m.role === "assistant" ? [{ role: m.role, content: m.content }] : []));
  const previous = conversation.summary;

  // The summary lives in the chat model's requests, so it is sized and counted for that model.
  const chat = resolveModel(conversation.model).info;
  const maxTokens = Math.min(1_000, summaryTokenLimit(chat) - countTextTokens(SUMMARY_HEADING, chat.tokenizer) - 8);
  const model = summaryModel(conversation.model, hasUsdLimit(payer));
  let text: string | null = null;
  let usage: UsageEntry | null = null;
  const prompt = model && sources.length > 0 ? await summaryPrompt(previous, sources, model, maxTokens) : null;
  const held = model && prompt !== null ? await reserveSummary(payer, model, prompt, maxTokens) : "refused";
  if (held === "refused" && prompt !== null) log.info({ conversation_id: conversation.id }, "no budget left for the summary model; summarizing extractively");
  if (held !== "refused") budget.reservation = held;
  if (model && prompt !== null && held !== "refused") {
    const startedAt = performance.now();
    const call = { kind: "summary" as const, provider: model.provider, model: model.id, conversationId: conversation.id, ttftMs: null, retries: 0 };
    try {
      const result = await generateText({
        model: model.model,
        system: INSTRUCTIONS,
        prompt,
        temperature: 0,
        maxOutputTokens: maxTokens,
        maxRetries: 1,
        abortSignal: AbortSignal.timeout(SUMMARY_TIMEOUT_MS),
        providerOptions: { openai: { store: false } },
        experimental_telemetry: aiTelemetry("chat.summary", { provider: model.provider, model: model.id }),
      });
      text = result.text.trim() || null;
      const { inputTokens, outputTokens } = result.usage;
      const estimated = inputTokens === undefined || outputTokens === undefined;
      const promptTokens = inputTokens ?? (await countTextTokensAsync(INSTRUCTIONS + prompt, model.info.tokenizer));
      const completionTokens = outputTokens ?? (await countTextTokensAsync(result.text, model.info.tokenizer));
      const cachedTokens = result.usage.inputTokenDetails?.cacheReadTokens ?? 0;
      usage = {
        userId: job.userId,
        apiKeyId: job.apiKeyId,
        kind: "summary",
        provider: model.provider,
        model: model.id,
        promptTokens,
        completionTokens,
        cachedTokens,
        costUsd: costUsd(model.info, promptTokens, completionTokens, cachedTokens),
        estimated,
        reservationId: budget.reservation?.id ?? null,
      };
      const durationMs = Math.round(performance.now() - startedAt);
      recordModelCall({ ...call, outcome: "ok", durationMs, inputTokens: promptTokens, outputTokens: completionTokens, costUsd: usage.costUsd });
    } catch (error) {
      const durationMs = Math.round(performance.now() - startedAt);
      recordModelCall({ ...call, outcome: "error", code: "upstream_error", durationMs, inputTokens: 0, outputTokens: 0, costUsd: 0 });
      log.warn({ conversation_id: conversation.id, model: model.id, err: error }, "summary model failed; using the extractive summary");
    }
  }
  const summary = text
    ? (await fitTextAsync(text, chat.tokenizer, maxTokens)).text
    : extractiveSummary({ previous, messages: sources, maxTokens, family: chat.tokenizer });
  const stored = await saveSummary({
    conversationId: conversation.id,
    userId: job.userId,
    summary,
    throughSeq: job.throughSeq,
    tokens: countTextTokens(summary, chat.tokenizer),
    usage,
    basis: { afterSeq: after, digest },
  });
  // saveSummary recorded the spend (stored or not), which settled the reservation.
  if (usage) budget.reservation?.markSettled();
  if (!stored) log.info({ conversation_id: conversation.id, through_seq: job.throughSeq }, "summary not stored: a newer one exists or the messages changed while it was written");
}

async function summaryPrompt(previous: string | null, sources: Array<{ role: string; content: string }>, model: ResolvedModel, maxOutput: number): Promise<string> {
  const family = model.info.tokenizer;
  const room = contextBudget(model.info, maxOutput) - countTextTokens(INSTRUCTIONS, family) - 64;
  const perMessage = Math.max(64, Math.min(MESSAGE_INPUT_TOKENS, Math.floor((room - countTextTokens(previous ?? "", family)) / Math.max(1, sources.length))));
  const lines: string[] = [];
  for (const m of sources) lines.push(`${m.role === "user" ? "User" : "Assistant"}: ${(await fitTextAsync(m.content, family, perMessage)).text}`);
  return `Current summary:\n${previous?.trim() || "(none yet)"}\n\nNew messages:\n${lines.join("\n\n")}`;
}
