import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { costUsd, type ModelInfo } from "@/lib/ai/models";
import { getDb } from "@/lib/db/client";
import { expireReservations, reserveSpend, resizeReservation, settleSpend, unholdSpend } from "@/lib/db/queries/reservations";
import { spendBySubject, type SubjectSpend } from "@/lib/db/queries/usage";
import { users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { apiKeySubject, userSubject, utcDay } from "./ledger";

/**
 * Spending limits: tokens per UTC day and dollars per UTC calendar month, for each user and each
 * API key. A limit set on the user or key wins over the BUDGET_* defaults; 0 means none.
 *
 * Every model call reserves its estimated spend before it starts (one conditional statement per
 * call, none when no limit applies) and settles it when its usage is recorded, so concurrent calls
 * see each other: a call is admitted while what is spent and held is below each limit, and the
 * overshoot is bounded by one call's reservation. A reservation its process never settled expires
 * after BUDGET_RESERVATION_TTL_SECONDS.
 */

export type Limits = { tokensPerDay: number; usdPerMonth: number };
/** Limits as stored on a user or key row: null is the env default. */
export type StoredLimits = { budgetTokensPerDay: number | null; budgetUsdPerMonth: number | null };
export type Subject = { kind: "user" | "api_key"; key: string; limits: Limits };

/** Who pays for a model call and what limits them, built from the authenticated caller with no query. */
export type Payer = { userId: string; apiKeyId: string | null; subjects: Subject[] };

export type BudgetPeriodStatus = { limit: number | null; used: number; reserved: number; resets_at: string };
export type BudgetStatus = { tokens_per_day: BudgetPeriodStatus; usd_per_month: BudgetPeriodStatus };

/** A call's spend: tokens, and dollars at the model's prices. */
export type Estimate = { tokens: number; costUsd: number };

export function payerFor(caller: { user: { id: string } & StoredLimits; apiKey: ({ id: string } & StoredLimits) | null }): Payer {
  const subjects: Subject[] = [
    {
      kind: "user",
      key: userSubject(caller.user.id),
      limits: {
        tokensPerDay: caller.user.budgetTokensPerDay ?? env.BUDGET_TOKENS_PER_DAY,
        usdPerMonth: caller.user.budgetUsdPerMonth ?? env.BUDGET_USD_PER_MONTH,
      },
    },
  ];
  if (caller.apiKey) {
    subjects.push({
      kind: "api_key",
      key: apiKeySubject(caller.apiKey.id),
      limits: {
        tokensPerDay: caller.apiKey.budgetTokensPerDay ?? env.API_KEY_BUDGET_TOKENS_PER_DAY,
        usdPerMonth: caller.apiKey.budgetUsdPerMonth ?? env.API_KEY_BUDGET_USD_PER_MONTH,
      },
    });
  }
  return { userId: caller.user.id, apiKeyId: caller.apiKey?.id ?? null, subjects };
}

/** The payer for ids alone (usage reports, the CLI): reads the user's stored limits. */
export async function loadPayer(input: { userId: string; apiKey: ({ id: string } & StoredLimits) | null }): Promise<Payer> {
  const db = await getDb();
  const [user] = await db
    .select({ budgetTokensPerDay: users.budgetTokensPerDay, budgetUsdPerMonth: users.budgetUsdPerMonth })
    .from(users)
    .where(eq(users.id, input.userId))
    .limit(1);
  return payerFor({ user: { id: input.userId, budgetTokensPerDay: user?.budgetTokensPerDay ?? null, budgetUsdPerMonth: user?.budgetUsdPerMonth ?? null }, apiKey: input.apiKey });
}

const isLimited = (s: Subject) => s.limits.tokensPerDay > 0 || s.limits.usdPerMonth > 0;

/** Some limit applies to this payer: its model calls reserve budget. */
export const hasLimits = (payer: Payer) => payer.subjects.some(isLimited);

/** A USD limit applies to this payer: unpriced models would spend uncounted. */
export const hasUsdLimit = (payer: Payer) => payer.subjects.some((s) => s.limits.usdPerMonth > 0);

/** An estimate for `promptTokens` in and `outputTokens` out, input at the full (uncached) price. */
export function estimateCall(info: ModelInfo, promptTokens: number, outputTokens: number): Estimate {
  return { tokens: promptTokens + outputTokens, costUsd: costUsd(info, promptTokens, outputTokens) };
}

function nextUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

function nextUtcMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

const monthStart = (now: Date) => utcDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
/** Dollars as the counters store them (numeric, 8 places), so held and given back match exactly. */
const round8 = (n: number) => Math.round(n * 1e8) / 1e8;
const NO_SPEND: SubjectSpend = { tokensToday: 0, reservedTokensToday: 0, usdThisMonth: 0, reservedUsdThisMonth: 0 };

/**
 * Estimated spend held against a payer's budgets while one model call (or a chain of them) runs.
 * Settled by the transaction that records the call's usage (`UsageEntry.reservationId`), or given
 * back whole by `release()`; a process that dies leaves it to expire.
 */
export class Reservation {
  private open = true;

  constructor(
    readonly id: string,
    readonly payer: Payer,
    private amount: Estimate,
  ) {}

  get estimate(): Estimate {
    return this.amount;
  }

  /**
   * Holds `next` instead: the call was admitted, so this is not checked against the limits again.
   * Never throws: if it fails the previous hold stays until the call settles.
   */
  async resize(estimate: Estimate): Promise<void> {
    const next = { tokens: estimate.tokens, costUsd: round8(estimate.costUsd) };
    if (!this.open || (next.tokens === this.amount.tokens && next.costUsd === this.amount.costUsd)) return;
    const previous = this.amount;
    try {
      await resizeReservation({ id: this.id, ...next, deltaTokens: next.tokens - previous.tokens, deltaUsd: round8(next.costUsd - previous.costUsd) });
      this.amount = next;
    } catch (error) {
      log.warn({ reservation_id: this.id, err: error }, "resizing a budget reservation failed; it keeps its previous amount");
    }
  }

  /** The transaction that recorded the call's usage settled this reservation. */
  markSettled(): void {
    this.open = false;
  }

  /** Gives the reservation back (nothing was spent, or the spend was recorded without it). Never throws. */
  async release(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    try {
      await settleSpend(await getDb(), { reservationId: this.id, userId: this.payer.userId, subjects: [], day: utcDay(new Date()), tokens: 0, costUsd: 0 });
    } catch (error) {
      // It expires on its own; a failed release only holds the budget a little longer.
      log.warn({ reservation_id: this.id, err: error }, "releasing a budget reservation failed; it will expire");
    }
  }
}

/** 422 for a model with no known price when a USD limit applies (it would cost $0 and never trip it). */
function unpricedModel(payer: Payer, modelId: string): AppError {
  const limited = payer.subjects.find((s) => s.limits.usdPerMonth > 0)!;
  return new AppError(
    "model_not_priced",
    `"${modelId}" has no price on this server, so it cannot be used under ${limited.kind === "user" ? "your account's" : "this API key's"} $${limited.limits.usdPerMonth.toFixed(2)} monthly budget. Choose a priced model (GET /api/v1/models, "priced": true), or ask the operator to price it in MODEL_OVERRIDES.`,
    { extensions: { model: modelId, budget: limited.kind } },
  );
}

/**
 * Reserves `estimate` against every limited budget of the payer, or throws 429 `budget_exceeded`
 * (422 `model_not_priced` for an unpriced model under a USD limit). No statement at all when no
 * limit applies; one when there is room.
 */
export async function reserveBudget(payer: Payer, model: { id: string; info: ModelInfo }, estimate: Estimate, now = new Date()): Promise<Reservation | null> {
  const limited = payer.subjects.filter(isLimited);
  if (limited.length === 0) return null;
  if (!model.info.priced && hasUsdLimit(payer)) throw unpricedModel(payer, model.id);
  const input = {
    id: randomUUID(),
    userId: payer.userId,
    subjects: limited.map((s) => ({ subject: s.key, tokensPerDay: s.limits.tokensPerDay, usdPerMonth: s.limits.usdPerMonth })),
    day: utcDay(now),
    monthStart: monthStart(now),
    tokens: estimate.tokens,
    costUsd: round8(estimate.costUsd),
    expiresAt: new Date(now.getTime() + env.BUDGET_RESERVATION_TTL_SECONDS * 1000),
  };
  const attempt = async () => {
    const { held, bumped } = await reserveSpend(input);
    if (!held) await unholdSpend({ subjects: bumped, day: input.day, tokens: input.tokens, costUsd: input.costUsd });
    return held;
  };
  let held = await attempt();
  // Refused: give back what dead processes left held, then try once more.
  if (!held && (await expireReservations(now)) > 0) held = await attempt();
  if (!held) throw await exceededError(limited, now);
  return new Reservation(input.id, payer, { tokens: input.tokens, costUsd: input.costUsd });
}

/** The limit that refused the call, in words and as problem extensions. */
async function exceededError(limited: Subject[], now: Date): Promise<AppError> {
  const spent = await spendBySubject({ subjects: limited.map((s) => s.key), today: utcDay(now), monthStart: monthStart(now) });
  for (const subject of limited) {
    const s = spent.get(subject.key) ?? NO_SPEND;
    const who = subject.kind === "user" ? "Your account" : "This API key";
    const { tokensPerDay, usdPerMonth } = subject.limits;
    const held = (n: number, unit: string) => (n > 0 ? ` (${unit} of it held by replies in progress)` : "");
    if (tokensPerDay > 0 && s.tokensToday + s.reservedTokensToday >= tokensPerDay) {
      const used = s.tokensToday + s.reservedTokensToday;
      return exceeded(subject, "tokens_per_day", tokensPerDay, used, nextUtcDay(now), now,
        `${who} has used ${used.toLocaleString("en-US")} of its ${tokensPerDay.toLocaleString("en-US")} tokens for today (UTC)${held(s.reservedTokensToday, s.reservedTokensToday.toLocaleString("en-US"))}.`);
    }
    if (usdPerMonth > 0 && s.usdThisMonth + s.reservedUsdThisMonth >= usdPerMonth) {
      const used = s.usdThisMonth + s.reservedUsdThisMonth;
      return exceeded(subject, "usd_per_month", usdPerMonth, used, nextUtcMonth(now), now,
        `${who} has spent $${used.toFixed(4)} of its $${usdPerMonth.toFixed(2)} monthly budget${held(s.reservedUsdThisMonth, `$${s.reservedUsdThisMonth.toFixed(4)}`)}.`);
    }
  }
  // Room appeared between the refusal and this read (a call settled): say so, the retry will do.
  return new AppError("budget_exceeded", "Your budget is held by replies in progress; retry in a moment.", { headers: { "retry-after": "1" } });
}

function exceeded(subject: Subject, limitType: keyof BudgetStatus, limit: number, used: number, resetsAt: Date, now: Date, detail: string): AppError {
  const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000));
  return new AppError("budget_exceeded", `${detail} It resets at ${resetsAt.toISOString()}.`, {
    headers: { "retry-after": String(retryAfter) },
    extensions: { budget: subject.kind, limit_type: limitType, limit, used: round6(used), resets_at: resetsAt.toISOString() },
  });
}

function periodStatus(limit: number, used: number, reserved: number, resetsAt: Date): BudgetPeriodStatus {
  return { limit: limit > 0 ? limit : null, used: round6(used), reserved: round6(reserved), resets_at: resetsAt.toISOString() };
}

/** The caller's limits, spend and what calls in progress hold (the key's when an API key calls, else the user's). */
export async function budgetStatus(input: { userId: string; apiKey: ({ id: string } & StoredLimits) | null }, now = new Date()): Promise<BudgetStatus> {
  const subject = (await loadPayer(input)).subjects.at(-1)!;
  const spent = (await spendBySubject({ subjects: [subject.key], today: utcDay(now), monthStart: monthStart(now) })).get(subject.key) ?? NO_SPEND;
  return {
    tokens_per_day: periodStatus(subject.limits.tokensPerDay, spent.tokensToday, spent.reservedTokensToday, nextUtcDay(now)),
    usd_per_month: periodStatus(subject.limits.usdPerMonth, spent.usdThisMonth, spent.reservedUsdThisMonth, nextUtcMonth(now)),
  };
}
