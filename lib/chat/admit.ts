import { chooseModel, conversationModel } from "@/lib/ai/catalog";
import { modelChain, type ChainOptions, type ResolvedModel } from "@/lib/ai/providers";
import { contextBudget } from "@/lib/context/assemble";
import { estimateCall, hasUsdLimit, payerFor, reserveBudget, type Payer, type Reservation, type StoredLimits } from "@/lib/usage/budget";
import { replyTokens } from "./generate";

/**
 * The one door into a model call, used by every route that makes one: the model must be one this
 * server lists (a chosen id: 404 `model_not_found`; a conversation's stored one: 422
 * `model_not_available`), priced when a USD budget applies (422 `model_not_priced`), and the
 * caller's budgets must have room — which reserves the call's spend (429 `budget_exceeded`).
 * Runs before anything is saved or streamed, and issues no SQL when no budget applies.
 */

/** The authenticated caller with its stored limits (they come with the session or key lookup). */
export type Caller = { user: { id: string } & StoredLimits; apiKey: ({ id: string } & StoredLimits) | null };

/** A model call let in: what to call, who pays, and the budget it holds (null: no limit applies). */
export type Admission = { resolved: ResolvedModel; payer: Payer; reservation: Reservation | null };

export async function admitModelCall(input: {
  caller: Caller;
  model: string;
  /** The id is a conversation's stored model rather than the caller's choice. */
  stored?: boolean;
  maxOutputTokens?: number;
}): Promise<Admission> {
  const resolved = input.stored ? await conversationModel(input.model) : await chooseModel(input.model);
  return holdBudget({ caller: input.caller, resolved, maxOutputTokens: input.maxOutputTokens });
}

/** The budget half of admitModelCall, for a caller that has chosen and checked the model itself. */
export async function holdBudget(input: { caller: Caller; resolved: ResolvedModel; maxOutputTokens?: number; promptTokens?: number }): Promise<Admission> {
  const { resolved } = input;
  const payer = payerFor(input.caller);
  const output = replyTokens(resolved.info, input.maxOutputTokens);
  // Unless the caller counted it, the request is not assembled yet: hold what the model's window
  // allows; generate() replaces it with the exact request before the call.
  const prompt = input.promptTokens ?? Math.max(0, contextBudget(resolved.info, output));
  const reservation = await reserveBudget(payer, resolved, estimateCall(resolved.info, prompt, output));
  return { resolved, payer, reservation };
}

/**
 * Runs the steps between admission and the reply (rewinding, saving the message): if one throws,
 * the reservation is given back. Once a reply starts it owns the reservation.
 */
export async function admitted<T>(admission: Admission | null, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await admission?.reservation?.release();
    throw error;
  }
}

/** The models a reply may be tried on for this payer: no unpriced fallback under a USD budget. */
export function chainFor(resolved: ResolvedModel, payer: Payer | undefined, options: Omit<ChainOptions, "requirePrice"> = {}): ResolvedModel[] {
  return modelChain(resolved, { ...options, requirePrice: payer ? hasUsdLimit(payer) : false });
}
