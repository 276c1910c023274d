/**
 * `npm run bench`: every benchmark of issue 9 in one run, on this machine, one scenario at a time.
 *
 *   npm run bench                       full sizes; writes bench/results/<date>.json and docs/benchmarks.md
 *   npm run bench -- --quick            tiny sizes (CI keeps the scripts working); writes to the temp dir
 *   npm run bench -- --only ttft,crud   a subset; merged into today's results file
 *   npm run bench -- --runs 5           repetitions per scenario (default: 3 full, 1 quick)
 *   npm run bench -- --docs-only        re-render docs/benchmarks.md from the newest results file
 *   npm run bench -- --label before     writes bench/results/<date>-before.json: the baseline the
 *                                       page's before/after tables compare later runs with
 *   npm run bench -- --workers 2        app scenarios start `npm start` with WEB_CONCURRENCY=2
 *   npm run bench -- --port-offset 1000 every port +1000 and scratch databases suffixed _p1000, so
 *                                       two runs on one machine do not meet (BENCH_PORT_OFFSET)
 *
 * Each scenario is its own script under bench/ run as a child process (its own heap and event loop,
 * nothing left over from the one before); it prints one ScenarioOutput (bench/lib/report.ts) on
 * stdout. The machine calibration (bench/lib/calibrate.ts) is measured before and after. Exits 1
 * if any scenario failed to run (a missed goal is a result, not a failure).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuild } from "./lib/app-process";
import { calibrate } from "./lib/calibrate";
import { renderBenchmarks } from "./lib/render";
import { renderComparison } from "./lib/render-compare";
import type { BenchResults, ScenarioOutput, ScenarioRecord } from "./lib/report";
import { flag, log } from "./lib/setup";

const ROOT = path.resolve(import.meta.dirname, "..");
const RESULTS = path.join(ROOT, "bench", "results");
const DOCS = path.join(ROOT, "docs", "benchmarks.md");
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

type ScenarioSpec = {
  id: string;
  /** Issue 9's scenario number. */
  scenario: number;
  title: string;
  script: string;
  args: (quick: boolean) => string[];
  /** Needs the production build (`next start`). */
  app?: boolean;
  /** Takes `--workers N` (the app as cluster workers). */
  workers?: boolean;
  timeoutMinutes: number;
};

const SCENARIOS: ScenarioSpec[] = [
  { id: "ttft", scenario: 1, title: "Overhead on time-to-first-token", script: "bench/ttft.ts", args: () => [], app: true, workers: true, timeoutMinutes: 20 },
  { id: "streams", scenario: 2, title: "Concurrent streams", script: "bench/streams.ts", args: () => [], app: true, workers: true, timeoutMinutes: 20 },
  { id: "crud", scenario: 3, title: "CRUD under load", script: "bench/crud.ts", args: () => [], app: true, workers: true, timeoutMinutes: 40 },
  {
    id: "retrieval-latency-pglite",
    scenario: 4,
    title: "Retrieval latency, PGlite",
    script: "bench/retrieval-quality.ts",
    args: (quick) => ["--no-quality", "--db", "pglite", ...(quick ? ["--sizes", "2000"] : [])],
    timeoutMinutes: 40,
  },
  {
    id: "retrieval-latency-postgres",
    scenario: 4,
    title: "Retrieval latency, Postgres",
    script: "bench/retrieval-quality.ts",
    args: (quick) => ["--no-quality", "--db", "postgres", ...(quick ? ["--sizes", "2000"] : [])],
    timeoutMinutes: 40,
  },
  { id: "retrieval-quality", scenario: 4, title: "Retrieval quality, BEIR SciFact", script: "bench/retrieval-quality.ts", args: () => ["--no-latency"], timeoutMinutes: 20 },
  { id: "grounded-quality", scenario: 4, title: "Retrieval quality, labelled PDF set", script: "bench/grounded-quality.ts", args: () => [], timeoutMinutes: 20 },
  { id: "ingestion-pglite", scenario: 5, title: "Ingestion, PGlite", script: "bench/ingestion.ts", args: () => ["--db", "pglite"], timeoutMinutes: 20 },
  { id: "ingestion-postgres", scenario: 5, title: "Ingestion, Postgres", script: "bench/ingestion.ts", args: () => ["--db", "postgres"], timeoutMinutes: 20 },
  { id: "context", scenario: 6, title: "Context assembly", script: "bench/context.ts", args: () => [], timeoutMinutes: 10 },
  { id: "conversation", scenario: 6, title: "300-turn conversation", script: "bench/conversation.ts", args: (quick) => (quick ? ["--turns", "30"] : []), timeoutMinutes: 20 },
  // Issue 18: what a turn costs, where its CPU goes, and 10,000 users.
  { id: "turn-cost", scenario: 18, title: "Cost of a chat turn", script: "bench/turn-cost.ts", args: () => [], app: true, workers: true, timeoutMinutes: 30 },
  { id: "profile", scenario: 18, title: "CPU profile of a turn by package", script: "bench/profile.ts", args: () => [], app: true, timeoutMinutes: 15 },
  { id: "users", scenario: 18, title: "10,000 users", script: "bench/users.ts", args: () => [], app: true, workers: true, timeoutMinutes: 30 },
];

function runScenario(spec: ScenarioSpec, quick: boolean, runs: string | undefined, workers: string | undefined): Promise<ScenarioRecord> {
  const args = [
    path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
    spec.script,
    ...spec.args(quick),
    ...(quick ? ["--quick"] : []),
    ...(runs ? ["--runs", runs] : []),
    ...(workers && spec.workers ? ["--workers", workers] : []),
  ];
  const started = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout takes down the app and mock processes it started too.
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    let stdout = "";
    let stderrTail = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      process.stderr.write(text.replace(/^(?=.)/gm, `  [${spec.id}] `));
      stderrTail = (stderrTail + text).slice(-4_000);
    });
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), spec.timeoutMinutes * 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      if (code !== 0) {
        resolve({ status: "failed", seconds, error: `exit ${code ?? signal}${signal === "SIGKILL" ? ` (over ${spec.timeoutMinutes} min)` : ""}\n${stderrTail}` });
        return;
      }
      try {
        const output = JSON.parse(stdout) as ScenarioOutput;
        if (!Array.isArray(output.goals) || !Array.isArray(output.tables)) throw new Error("not a ScenarioOutput (goals and tables missing)");
        resolve({ status: "ok", seconds, output });
      } catch (error) {
        resolve({ status: "failed", seconds, error: `unreadable output: ${String(error)}\n${stdout.slice(0, 500)}` });
      }
    });
  });
}

async function postgresVersion(): Promise<string | null> {
  const pg = await import("pg");
  const client = new pg.default.Client({ connectionString: POSTGRES });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>("show server_version");
    return rows[0]?.server_version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

function machine(postgres: string | null): BenchResults["machine"] {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
  };
}

/** The newest full run (`<date>.json`), or the newest `<date>-<label>.json` with `label`. */
function newestResults(label?: string): string | null {
  const pattern = label ? new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${label}\\.json$`) : /^\d{4}-\d{2}-\d{2}\.json$/;
  const files = fs.existsSync(RESULTS) ? fs.readdirSync(RESULTS).filter((f) => pattern.test(f)).sort() : [];
  return files.length ? path.join(RESULTS, files.at(-1)!) : null;
}

const readResults = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;

/** Renders the page from a full run, with the before/after comparison when a baseline exists. */
function writeDocs(resultsFile: string, results: BenchResults, baselineFile: string | null): void {
  const current = fs.existsSync(DOCS) ? fs.readFileSync(DOCS, "utf8") : "";
  const relative = (file: string) => path.relative(path.dirname(DOCS), file);
  const comparison = baselineFile ? renderComparison(readResults(baselineFile), relative(baselineFile), results, relative(resultsFile)) : "";
  fs.writeFileSync(DOCS, renderBenchmarks(current, results, relative(resultsFile), comparison));
  log(`wrote ${path.relative(ROOT, DOCS)}${baselineFile ? ` (before/after against ${path.relative(ROOT, baselineFile)})` : ""}`);
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const runs = flag(argv, "--runs");
  const workers = flag(argv, "--workers");
  const label = flag(argv, "--label");
  if (label !== undefined && !/^[a-z0-9-]+$/.test(label)) throw new Error("--label takes lower-case letters, digits and dashes");
  const offset = flag(argv, "--port-offset");
  if (offset !== undefined) process.env.BENCH_PORT_OFFSET = offset; // the scenarios inherit it
  const date = new Date().toISOString().slice(0, 10);
  const baseline = flag(argv, "--baseline") ?? newestResults("before");

  if (argv.includes("--docs-only")) {
    const file = flag(argv, "--results") ?? newestResults();
    if (!file) throw new Error("no results file in bench/results to render");
    writeDocs(file, readResults(file), baseline);
    return;
  }

  const only = flag(argv, "--only")?.split(",");
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
  const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
  const out = flag(argv, "--out") ?? (quick ? path.join(os.tmpdir(), `bot-gpt-bench-quick-${date}.json`) : path.join(RESULTS, `${date}${label ? `-${label}` : ""}.json`));

  const started = performance.now();
  if (selected.some((s) => s.app)) ensureBuild(log);
  log(`calibrating the machine…`);
  const before = await calibrate(POSTGRES);
  log(`calibration: ${JSON.stringify(before)}`);
  const scenarios: BenchResults["scenarios"] = {};
  for (const spec of selected) {
    log(`── ${spec.id}: ${spec.title}${quick ? " (quick)" : ""}`);
    scenarios[spec.id] = { ...(await runScenario(spec, quick, runs, workers)), scenario: spec.scenario, title: spec.title };
    const record = scenarios[spec.id]!;
    if (record.status === "ok") {
      const missed = record.output.goals.filter((g) => !g.met).length;
      log(`── ${spec.id}: done in ${record.seconds} s, ${record.output.goals.length - missed}/${record.output.goals.length} goals met`);
    } else log(`── ${spec.id}: FAILED after ${record.seconds} s: ${record.error.split("\n")[0]}`);
  }
  const after = await calibrate(POSTGRES);

  // A subset run adds to (or replaces scenarios in) the same day's file.
  const previous = only && fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as BenchResults) : null;
  const results: BenchResults = {
    date,
    quick,
    machine: machine(await postgresVersion()),
    command: `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
    calibration: { before, after },
    scenarios: { ...previous?.scenarios, ...scenarios },
    seconds: Math.round((performance.now() - started) / 1000),
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${out}`);
  if (!quick && !flag(argv, "--out")) {
    // A labelled run (the baseline) does not replace the page's figures: it is compared with them.
    const shown = label ? newestResults() : out;
    if (shown) writeDocs(shown, shown === out ? results : readResults(shown), label === "before" ? out : baseline);
  }

  const failed = Object.entries(scenarios).filter(([, r]) => r.status === "failed");
  const goals = Object.values(scenarios).flatMap((r) => (r.status === "ok" ? r.output.goals : []));
  log(`${goals.filter((g) => g.met).length}/${goals.length} goals met; ${failed.length} scenario(s) failed${failed.length ? `: ${failed.map(([id]) => id).join(", ")}` : ""}`);
  if (failed.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
