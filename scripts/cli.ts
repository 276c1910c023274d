// First, before anything reads the environment.
import "./cli/quiet-logs";
import "./cli/logs-to-stderr";
import { AppError } from "@/lib/api/errors";
import { closeDb } from "@/lib/db/client";
import type { Command } from "./cli/args";
import { normalizeCommand } from "./cli/argv";
import { budgetCommands, budgetUsage } from "./cli/budgets";
import { keyCommands, keyUsage } from "./cli/keys";
import { maintenanceCommands, maintenanceUsage } from "./cli/maintenance";
import { userCommands, userUsage } from "./cli/users";

/**
 * Admin CLI for operators and scripted set-ups; each command prints one JSON result on stdout
 * (user:list without --json prints a table). Exit codes: 0 done, 1 failed (e.g. no such user),
 * 2 bad arguments. `user:create`, `users:create`, `users create` and `user create` are the same.
 *   npm run cli -- user:create --email a@b.c --password '…' [--name 'Ada']
 *   npm run cli -- users list [--json]
 *   npm run cli -- user:disable --user a@b.c        (user:enable undoes it)
 *   npm run cli -- user:password --user a@b.c --password '…'
 *   npm run cli -- key:create --user a@b.c --name ci --scopes conversations:read --expires-in-days 90
 *   npm run cli -- key:revoke --key <api key id>
 *   npm run cli -- budget:set --user a@b.c --tokens-per-day 100000 --usd-per-month default
 *   npm run cli -- document:reindex --user a@b.c    (or --document <id>, or --all)
 *   npm run cli -- prune --dry-run
 */

const usage = `usage: npm run cli -- <command> [flags]   (also: users create, keys revoke, documents reindex …)
${userUsage}
${keyUsage}
${budgetUsage}
${maintenanceUsage}`;

const commands: Record<string, Command> = { ...userCommands, ...keyCommands, ...budgetCommands, ...maintenanceCommands };

async function run(argv: string[]): Promise<number> {
  const { command, args } = normalizeCommand(argv);
  const handler = command === undefined ? undefined : commands[command];
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(usage);
    return 0;
  }
  if (!handler) {
    console.error(command === undefined ? usage : `unknown command: ${argv.join(" ")}\n${usage}`);
    return 2;
  }
  return handler(args);
}

// parseArgs reports unknown flags, missing values and stray arguments with these codes.
const isArgumentError = (error: unknown) =>
  error instanceof Error && String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS_");

/**
 * process.exit() drops whatever a piped stdout has not written yet (a pipe holds 64 KB), which cut
 * `users list` short once a deployment had a few hundred users; exit only after both have flushed.
 */
async function exit(code: number): Promise<never> {
  const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

run(process.argv.slice(2))
  .catch((error: unknown) => {
    if (!isArgumentError(error)) throw error;
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  })
  .then(async (code) => {
    await closeDb();
    await exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof AppError ? error.message : error instanceof Error ? error.message : String(error));
    await closeDb().catch(() => {});
    await exit(1);
  });
