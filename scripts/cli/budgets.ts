import { parseArgs } from "node:util";
import { z } from "zod";
import { isUuid } from "@/lib/api/pagination";
import { getApiKeyBudget, getUserBudget, setApiKeyBudget, setUserBudget, type ApiKeyBudget, type UserBudget } from "@/lib/db/queries/budgets";
import { budgetStatus } from "@/lib/usage/budget";
import { invalid, print, userArg, type Command } from "./args";

export const budgetUsage = `  budget:set (--user <email|id> | --key <api key id>) [--tokens-per-day <n>] [--usd-per-month <x>]
  budget:show (--user <email|id> | --key <api key id>)
                                      limits: 0 = no limit; "default" = the BUDGET_* (users) or API_KEY_BUDGET_* (keys) setting`;

/** A limit flag: a non-negative number (0 = no limit), or `default` (stored as null). */
function limitArg(flag: string, kind: "integer" | "number", max: number) {
  const pattern = kind === "integer" ? /^\d+$/ : /^(?:\d+(?:\.\d*)?|\.\d+)$/;
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (value === "default") return null;
      if (pattern.test(value) && Number(value) <= max) return Number(value);
      ctx.issues.push({ code: "custom", input: value, message: `${flag} must be a non-negative ${kind} up to ${max}, 0 for no limit, or "default"` });
      return z.NEVER;
    });
}

const subjectArgs = {
  user: userArg.optional(),
  key: z.string().refine(isUuid, "--key must be an API key id (a UUID)").optional(),
};
const oneSubject = [
  (v: { user?: string; key?: string }) => (v.user === undefined) !== (v.key === undefined),
  "give exactly one of --user <email|id> or --key <api key id>",
] as const;

const showArgs = z.object(subjectArgs).refine(...oneSubject);
const setArgs = z
  .object({
    ...subjectArgs,
    "tokens-per-day": limitArg("--tokens-per-day", "integer", 2_147_483_647),
    "usd-per-month": limitArg("--usd-per-month", "number", 99_999_999),
  })
  .refine(...oneSubject)
  .refine(
    (v) => v["tokens-per-day"] !== undefined || v["usd-per-month"] !== undefined,
    "give --tokens-per-day and/or --usd-per-month (a number, 0 for no limit, or \"default\")",
  );

/** Stored limits (null: the default), the limits in force (null: none), spend so far and what calls in progress hold. */
async function budgetReport(subject: { user: UserBudget } | { apiKey: ApiKeyBudget }) {
  const stored = "user" in subject ? subject.user : subject.apiKey;
  const status =
    "user" in subject
      ? await budgetStatus({ userId: subject.user.id, apiKey: null })
      : await budgetStatus({ userId: subject.apiKey.userId, apiKey: subject.apiKey });
  return {
    ...("user" in subject
      ? { user: { id: subject.user.id, email: subject.user.email } }
      : {
          api_key: {
            id: subject.apiKey.id,
            user_id: subject.apiKey.userId,
            name: subject.apiKey.name,
            prefix: subject.apiKey.prefix,
            revoked_at: subject.apiKey.revokedAt?.toISOString() ?? null,
          },
        }),
    stored: { tokens_per_day: stored.budgetTokensPerDay, usd_per_month: stored.budgetUsdPerMonth },
    effective: { tokens_per_day: status.tokens_per_day.limit, usd_per_month: status.usd_per_month.limit },
    spend: { tokens_today: status.tokens_per_day.used, usd_this_month: status.usd_per_month.used },
    // Held by model calls in progress (or by a dead process's, until it expires).
    reserved: { tokens_today: status.tokens_per_day.reserved, usd_this_month: status.usd_per_month.reserved },
    resets_at: { tokens_per_day: status.tokens_per_day.resets_at, usd_per_month: status.usd_per_month.resets_at },
  };
}

const subjectOptions = { user: { type: "string" }, key: { type: "string" } } as const;

export const budgetCommands: Record<string, Command> = {
  "budget:set": async (args) => {
    const options = { ...subjectOptions, "tokens-per-day": { type: "string" }, "usd-per-month": { type: "string" } } as const;
    const parsed = setArgs.safeParse(parseArgs({ args, options, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    const change = { tokensPerDay: parsed.data["tokens-per-day"], usdPerMonth: parsed.data["usd-per-month"] };
    print(
      parsed.data.user
        ? await budgetReport({ user: await setUserBudget({ user: parsed.data.user, ...change }) })
        : await budgetReport({ apiKey: await setApiKeyBudget({ id: parsed.data.key!, ...change }) }),
    );
    return 0;
  },
  "budget:show": async (args) => {
    const parsed = showArgs.safeParse(parseArgs({ args, options: subjectOptions, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    print(
      parsed.data.user
        ? await budgetReport({ user: await getUserBudget({ user: parsed.data.user }) })
        : await budgetReport({ apiKey: await getApiKeyBudget({ id: parsed.data.key! }) }),
    );
    return 0;
  },
};
