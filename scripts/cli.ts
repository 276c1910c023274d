import { parseArgs } from "node:util";
import { z } from "zod";
import { AppError } from "@/lib/api/errors";
import { closeDb } from "@/lib/db/client";
import { createUser, listUsers } from "@/lib/db/queries/users";

/**
 * Admin CLI for scripted set-ups and tests:
 *   npm run cli -- user:create --email a@b.c --password '…' [--name 'Ada']
 *   npm run cli -- user:list [--json]
 */

const usage = `usage:
  npm run cli -- user:create --email <email> --password <password> [--name <name>]
  npm run cli -- user:list [--json]`;

const createArgs = z.object({
  email: z.email("--email must be an email address"),
  password: z.string("--password is required").min(8, "--password must be at least 8 characters"),
  name: z.string().optional(),
});

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" }, json: { type: "boolean" } },
    strict: true,
  });
  switch (command) {
    case "user:create": {
      const parsed = createArgs.safeParse(values);
      if (!parsed.success) {
        console.error(parsed.error.issues.map((i) => i.message).join("\n"));
        return 2;
      }
      const user = await createUser(parsed.data);
      console.log(JSON.stringify({ id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString() }));
      return 0;
    }
    case "user:list": {
      const users = await listUsers();
      if (values.json) console.log(JSON.stringify(users.map((u) => ({ id: u.id, email: u.email, name: u.name, created_at: u.createdAt.toISOString() }))));
      else for (const u of users) console.log(`${u.id}\t${u.email}\t${u.name ?? ""}\t${u.createdAt.toISOString()}`);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

run(process.argv.slice(2))
  .then(async (code) => {
    await closeDb();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof AppError ? error.message : error instanceof Error ? error.message : String(error));
    await closeDb().catch(() => {});
    process.exit(1);
  });
