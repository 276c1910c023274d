import { parseArgs } from "node:util";
import { z } from "zod";
import { createUser, listUsers, setUserDisabled, setUserPassword, type UserAccount } from "@/lib/db/queries/users";
import { invalid, isoOrNull, print, userArg, type Command } from "./args";

export const userUsage = `  user:create --email <email> --password <password> [--name <name>]
  user:list [--json]
  user:disable --user <email|id>      no sign-in; its sessions end and its API keys get 403 account_disabled
  user:enable --user <email|id>
  user:password --user <email|id> --password <password>   sets a new password and ends every session`;

const passwordArg = z.string("--password is required").min(8, "--password must be at least 8 characters").max(1024);

const createArgs = z.object({
  email: z.email("--email must be an email address"),
  password: passwordArg,
  name: z.string().optional(),
});

const accountJson = (u: UserAccount) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  created_at: u.createdAt.toISOString(),
  disabled_at: isoOrNull(u.disabledAt),
});

function setDisabled(disabled: boolean): Command {
  return async (args) => {
    const parsed = z.object({ user: userArg }).safeParse(parseArgs({ args, options: { user: { type: "string" } }, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    print(accountJson(await setUserDisabled({ user: parsed.data.user, disabled })));
    return 0;
  };
}

export const userCommands: Record<string, Command> = {
  "user:create": async (args) => {
    const options = { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } } as const;
    const parsed = createArgs.safeParse(parseArgs({ args, options, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    const user = await createUser(parsed.data);
    print({ id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString() });
    return 0;
  },
  "user:list": async (args) => {
    const { json } = parseArgs({ args, options: { json: { type: "boolean" } }, strict: true }).values;
    const users = await listUsers();
    if (json) print(users.map(accountJson));
    else {
      for (const u of users) {
        const status = u.disabledAt ? `disabled ${u.disabledAt.toISOString()}` : "active";
        console.log(`${u.id}\t${u.email}\t${u.name ?? ""}\t${u.createdAt.toISOString()}\t${status}`);
      }
    }
    return 0;
  },
  "user:disable": setDisabled(true),
  "user:enable": setDisabled(false),
  "user:password": async (args) => {
    const options = { user: { type: "string" }, password: { type: "string" } } as const;
    const parsed = z.object({ user: userArg, password: passwordArg }).safeParse(parseArgs({ args, options, strict: true }).values);
    if (!parsed.success) return invalid(parsed.error);
    print(accountJson(await setUserPassword(parsed.data)));
    return 0;
  },
};
