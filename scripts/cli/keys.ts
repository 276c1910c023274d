import { parseArgs } from "node:util";
import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKeyById, type PublicApiKey } from "@/lib/db/queries/api-keys";
import { findUserAccount } from "@/lib/db/queries/users";
import { apiKeyScopes, type ApiKeyScope } from "@/lib/db/schema";
import { isUuid } from "@/lib/api/pagination";
import { invalid, isoOrNull, print, userArg, type Command } from "./args";

export const keyUsage = `  key:create --user <email|id> --name <name> [--scopes <s,…>|all] [--expires-in-days <n>]
                                      prints the key once; scopes: ${apiKeyScopes.join(", ")} (default all)
  key:list --user <email|id>          the user's keys that are not revoked
  key:revoke --key <api key id>`;

const DAY_MS = 24 * 60 * 60 * 1000;

const scopesArg = z
  .string()
  .optional()
  .transform((value, ctx): ApiKeyScope[] => {
    if (value === undefined || value.trim() === "all") return [...apiKeyScopes];
    const scopes = value.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = scopes.filter((s) => !(apiKeyScopes as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0) {
      ctx.issues.push({ code: "custom", input: value, message: `--scopes must be a comma-separated list of ${apiKeyScopes.join(", ")} (or all)` });
      return z.NEVER;
    }
    return scopes as ApiKeyScope[];
  });

const createArgs = z.object({
  user: userArg,
  name: z.string("--name is required").trim().min(1, "--name must not be empty").max(100, "--name must be at most 100 characters"),
  scopes: scopesArg,
  "expires-in-days": z
    .string()
    .regex(/^[1-9]\d*$/, "--expires-in-days must be a whole number of days, 1 or more")
    .transform(Number)
    .refine((n) => n <= 3650, "--expires-in-days must be at most 3650")
    .optional(),
});

const keyJson = (key: PublicApiKey, userId: string) => ({
  id: key.id,
  user_id: userId,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  created_at: key.createdAt.toISOString(),
  expires_at: isoOrNull(key.expiresAt),
  last_used_at: isoOrNull(key.lastUsedAt),
  revoked_at: isoOrNull(key.revokedAt),
});

export const keyCommands: Record<string, Command> = {
  "key:create": async (args) => {
    const options = { user: { type: "string" }, name: { type: "string" }, scopes: { type: "string" }, "expires-in-days": { type: "string" } } as const;
    const parsed = createArgs.safeParse(parseArgs({ args, options, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    const days = parsed.data["expires-in-days"];
    const user = await findUserAccount({ user: parsed.data.user });
    const { apiKey, key } = await createApiKey({
      userId: user.id,
      name: parsed.data.name,
      scopes: parsed.data.scopes,
      expiresAt: days === undefined ? null : new Date(Date.now() + days * DAY_MS),
    });
    if (user.disabledAt) console.error(`note: ${user.email} is disabled; the key works once the account is enabled again`);
    print({ ...keyJson(apiKey, user.id), key });
    return 0;
  },
  "key:list": async (args) => {
    const parsed = z.object({ user: userArg }).safeParse(parseArgs({ args, options: { user: { type: "string" } }, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    const user = await findUserAccount({ user: parsed.data.user });
    print((await listApiKeys({ userId: user.id })).map((k) => keyJson(k, user.id)));
    return 0;
  },
  "key:revoke": async (args) => {
    const schema = z.object({ key: z.string("--key <api key id> is required").refine(isUuid, "--key must be an API key id (a UUID)") });
    const parsed = schema.safeParse(parseArgs({ args, options: { key: { type: "string" } }, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    const { apiKey, revoked } = await revokeApiKeyById({ id: parsed.data.key });
    print({ ...keyJson(apiKey, apiKey.userId), already_revoked: !revoked });
    return 0;
  },
};
