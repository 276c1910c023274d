import pg from "pg";

/** Shared set-up for benchmark scripts: flags, logging and a scratch database. */

export type DbChoice = { db: "pglite" | "postgres"; url: string };

export function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function dbChoice(argv: string[], scratchName: string): DbChoice {
  const db = flag(argv, "--db") ?? "pglite";
  if (db !== "pglite" && db !== "postgres") throw new Error("--db must be pglite or postgres");
  return { db, url: flag(argv, "--url") ?? `postgres://postgres@127.0.0.1:5432/${scratchName}` };
}

export const log = (message: string) => process.stderr.write(`${message}\n`);

/** Drops and recreates the scratch database named in `url` (never anything else). */
export async function recreateDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!/^bot_gpt_bench[a-z0-9_]*$/.test(name)) throw new Error(`refusing to recreate database "${name}" (scratch names start with bot_gpt_bench)`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${name}`);
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
}

/** Points the app at the chosen database; call before importing any app module. */
export async function configureDatabase(choice: DbChoice, extra: Record<string, string> = {}): Promise<void> {
  if (choice.db === "postgres") await recreateDatabase(choice.url);
  Object.assign(process.env, choice.db === "postgres" ? { DATABASE_URL: choice.url } : { DATABASE_URL: "", DATA_DIR: "memory://" }, extra);
  process.env.LOG_LEVEL ??= "warn";
  // stdout carries the script's one JSON result; the app's log lines go to stderr with the progress.
  const { redirectLogs } = await import("@/lib/log");
  const pino = (await import("pino")).default;
  redirectLogs(pino.destination({ dest: 2, sync: true }));
}

/**
 * BENCH_PORT_OFFSET (or `npm run bench -- --port-offset N`): shifts every port a bench script
 * listens on and suffixes its scratch databases (`bot_gpt_bench_ttft_p1000`), so two people or
 * helpers on one machine can run the same scenario at once without meeting.
 */
export function portOffset(): number {
  const offset = Number(process.env.BENCH_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > 20_000) throw new Error(`BENCH_PORT_OFFSET must be a whole number 0–20000, not ${process.env.BENCH_PORT_OFFSET}`);
  return offset;
}

export const benchPort = (base: number) => base + portOffset();

/** A scratch database URL on the bench Postgres, offset-suffixed (see portOffset). */
export function scratchUrl(name: string): string {
  const offset = portOffset();
  const server = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const url = new URL(server);
  url.pathname = `/${name}${offset ? `_p${offset}` : ""}`;
  return url.toString();
}

/** `--workers N`: the app under test runs N cluster workers (AppProcess's `workers`); absent: one `next start`. */
export function workersFlag(argv: string[]): number | undefined {
  const value = flag(argv, "--workers");
  if (value === undefined) return undefined;
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a whole number ≥ 1, not ${value}`);
  return workers;
}
