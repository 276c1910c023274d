import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { AppError } from "@/lib/api/errors";
import { isUuid } from "@/lib/api/pagination";
import { closeDb } from "@/lib/db/client";
import { getApiKeyBudget, getUserBudget, setApiKeyBudget, setUserBudget, type ApiKeyBudget, type UserBudget } from "@/lib/db/queries/budgets";
import { createUser, listUsers } from "@/lib/db/queries/users";
import { budgetStatus } from "@/lib/usage/budget";

/**
 * Admin CLI for scripted set-ups and tests:
 *   npm run cli -- user:create --email a@b.c --password '…' [--name 'Ada']
 *   npm run cli -- user:list [--json]
 *   npm run cli -- budget:set --user a@b.c --tokens-per-day 100000 --usd-per-month default
 *   npm run cli -- budget:show --key <api key id>
 */

const usage = `usage:
  npm run cli -- user:create --email <email> --password <password> [--name <name>]
  npm run cli -- user:list [--json]
  npm run cli -- budget:set (--user <email|id> | --key <api key id>) [--tokens-per-day <n>] [--usd-per-month <x>]
  npm run cli -- budget:show (--user <email|id> | --key <api key id>)
budget limits: 0 = no limit; "default" = the BUDGET_* (users) or API_KEY_BUDGET_* (keys) setting`;

const createArgs = z.object({
  email: z.email("--email must be an email address"),
  password: z.string("--password is required").min(8, "--password must be at least 8 characters"),
  name: z.string().optional(),
});

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
  user: z
    .string()
    .refine((v) => isUuid(v) || z.email().safeParse(v.trim()).success, "--user must be an email address or a user id")
    .optional(),
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

const options = {
  "user:create": { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
  "user:list": { json: { type: "boolean" } },
  "budget:set": { user: { type: "string" }, key: { type: "string" }, "tokens-per-day": { type: "string" }, "usd-per-month": { type: "string" } },
  "budget:show": { user: { type: "string" }, key: { type: "string" } },
} satisfies Record<string, ParseArgsConfig["options"]>;

function flags<C extends keyof typeof options>(command: C, args: string[]) {
  return parseArgs({ args, options: options[command], strict: true }).values;
}

function invalid(error: z.ZodError): number {
  console.error(error.issues.map((i) => i.message).join("\n"));
  return 2;
}

/** Stored limits (null: the default), the limits in force (null: none), and spend so far. */
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
    resets_at: { tokens_per_day: status.tokens_per_day.resets_at, usd_per_month: status.usd_per_month.resets_at },
  };
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "user:create": {
      const parsed = createArgs.safeParse(flags(command, rest));
      if (!parsed.success) return invalid(parsed.error);
      const user = await createUser(parsed.data);
      console.log(JSON.stringify({ id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString() }));
      return 0;
    }
    case "user:list": {
      const values = flags(command, rest);
      const users = await listUsers();
      if (values.json) console.log(JSON.stringify(users.map((u) => ({ id: u.id, email: u.email, name: u.name, created_at: u.createdAt.toISOString() }))));
      else for (const u of users) console.log(`${u.id}\t${u.email}\t${u.name ?? ""}\t${u.createdAt.toISOString()}`);
      return 0;
    }
    case "budget:set": {
      const parsed = setArgs.safeParse(flags(command, rest));
      if (!parsed.success) return invalid(parsed.error);
      const change = { tokensPerDay: parsed.data["tokens-per-day"], usdPerMonth: parsed.data["usd-per-month"] };
      const report = parsed.data.user
        ? await budgetReport({ user: await setUserBudget({ user: parsed.data.user, ...change }) })
        : await budgetReport({ apiKey: await setApiKeyBudget({ id: parsed.data.key!, ...change }) });
      console.log(JSON.stringify(report));
      return 0;
    }
    case "budget:show": {
      const parsed = showArgs.safeParse(flags(command, rest));
      if (!parsed.success) return invalid(parsed.error);
      const report = parsed.data.user
        ? await budgetReport({ user: await getUserBudget({ user: parsed.data.user }) })
        : await budgetReport({ apiKey: await getApiKeyBudget({ id: parsed.data.key! }) });
      console.log(JSON.stringify(report));
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

// parseArgs reports unknown flags, missing values and stray arguments with these codes.
const isArgumentError = (error: unknown) =>
  error instanceof Error && String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS_");

run(process.argv.slice(2))
  .catch((error: unknown) => {
    if (!isArgumentError(error)) throw error;
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  })
  .then(async (code) => {
    await closeDb();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof AppError ? error.message : error instanceof Error ? error.message : String(error));
    await closeDb().catch(() => {});
    process.exit(1);
  });
