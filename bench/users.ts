/**
 * Issue 18: 10,000 users, shown rather than argued. Postgres seeded with 10,000 users (each with
 * an API key and conversations with history, set-based SQL), one app on all cores (`--workers`),
 * the mock LLM as in bench/turn-cost.ts, and autocannon (bench/lib/users-load.ts, its own
 * process) making visits — list conversations, read one's newest page, send a message there and
 * read the streamed reply — each visit by the next user, ≈170 turns a minute, for 10 minutes.
 * Reported: errors (every kind counted), first text and CRUD p50/p99, the CPU of the app, the
 * Postgres backends and the machine during the run, and the projected ceiling per core.
 *
 *   npx tsx bench/users.ts [--quick] [--users 10000] [--minutes 10] [--turns-per-minute 170] [--workers N]
 *
 * Ports 3374 (app) and 4035 (mock), scratch database bot_gpt_bench_users (shifted by
 * BENCH_PORT_OFFSET). Prints one ScenarioOutput on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { measureWindow, type WindowCost } from "./lib/cost";
import { seedScratchDatabase } from "./lib/crud-seed";
import { PostgresCpu } from "./lib/proc";
import { emit, goal, round, type Figure } from "./lib/report";
import { benchPort, flag, log, scratchUrl, workersFlag } from "./lib/setup";
import { MockProcess, appOnMockEnv, runTsx } from "./lib/stream-bench";
import type { UsersLoadResult } from "./lib/users-load";
import { seedUserKeys } from "./lib/users-seed";

const REPLY = "Paris is the capital city of France.";
const METRICS_TOKEN = "bench-users-metrics-token";
const SECRET = "bench-users-secret-bench-users-secret";

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const userCount = Number(flag(argv, "--users") ?? (quick ? 200 : 10_000));
  const durationS = Math.round(Number(flag(argv, "--minutes") ?? (quick ? 0.15 : 10)) * 60);
  const warmupS = quick ? 2 : 15;
  const asked = Number(flag(argv, "--turns-per-minute") ?? (quick ? 60 : 170));
  // A connection makes one request a second, so one visit (three requests) every 3 s: 20 a minute.
  const connections = Math.max(1, Math.round(asked / 20));
  const workers = workersFlag(argv);
  const url = scratchUrl("bot_gpt_bench_users");
  const database = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = "/postgres";

  ensureBuild(log);
  const sizes = { users: userCount, conversations: userCount * 2, messages: userCount * 20 };
  const { seed, closeDb } = await seedScratchDatabase(url, sizes, { secret: SECRET, instanceId: "users-driver" }, log);
  const keys = await seedUserKeys(url);
  await closeDb();
  log(`${keys.users.length} API keys in ${keys.seconds} s`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-users-"));
  const usersPath = path.join(dir, "users.json");
  writeFileSync(usersPath, JSON.stringify({ users: keys.users }));

  const mock = new MockProcess(benchPort(4035));
  await mock.start();
  await mock.control("settings", { ttftMs: 0, chunkDelayMs: 10, reply: REPLY, record: false });
  const app = new AppProcess(benchPort(3374), { ...appOnMockEnv(mock.url, SECRET), DATABASE_URL: url, METRICS_TOKEN, INSTANCE_ID: "bench-users" }, { workers });
  const postgres = new PostgresCpu(admin.toString(), database);
  await postgres.open();
  let load: UsersLoadResult;
  let cost: WindowCost;
  try {
    await app.start(120_000);
    log(`app on ${app.url}${workers ? ` (WEB_CONCURRENCY=${workers})` : ""}; ${connections} connections ≈ ${connections * 20} visits a minute for ${durationS} s after ${warmupS} s of warm-up`);
    const measured = await measureWindow({ appPid: app.pid!, mockPid: mock.pid, postgres, appUrl: app.url, metricsToken: METRICS_TOKEN }, () =>
      runTsx("bench/lib/users-load.ts", ["--url", app.url, "--users", usersPath, "--connections", String(connections), "--duration", String(durationS), "--warmup", String(warmupS)], {}, (durationS + warmupS + 180) * 1000),
    );
    load = JSON.parse(measured.result.trim().split("\n").at(-1)!) as UsersLoadResult;
    cost = measured.cost;
  } catch (error) {
    log(app.tail());
    throw error;
  } finally {
    await app.stop();
    await mock.stop();
    await postgres.close();
    rmSync(dir, { recursive: true, force: true });
  }
  log(`users: ${JSON.stringify(load)}`);
  emit(report({ quick, userCount, durationS, warmupS, asked, connections, workers, load, cost, seed: { seconds: seed.seconds, keys: keys.seconds, sizes } }));
}

type ReportInput = {
  quick: boolean;
  userCount: number;
  durationS: number;
  warmupS: number;
  asked: number;
  connections: number;
  workers: number | undefined;
  load: UsersLoadResult;
  cost: WindowCost;
  seed: { seconds: number; keys: number; sizes: { users: number; conversations: number; messages: number } };
};

function report(r: ReportInput) {
  const { load, cost } = r;
  // CPU over the whole window (warm-up included), per visit made in it: visits counted after the warm-up, scaled.
  const wallS = cost.wallMs / 1000;
  const visitsInWindow = load.visits * (wallS / load.measured_s);
  const appCores = cost.appCpuMs / cost.wallMs;
  const pgCores = cost.postgresCpuMs / cost.wallMs;
  const cpuPerVisit = (cost.appCpuMs + cost.postgresCpuMs) / visitsInWindow;
  const appPerVisit = cost.appCpuMs / visitsInWindow;
  const ceilingPerCore = 60_000 / cpuPerVisit;
  const processCeiling = 60_000 / appPerVisit;
  const cores = os.cpus().length;
  const shape = r.workers ? `${r.workers} workers` : "one process";
  const figures: Figure[] = [
    { name: `errors in ${Math.round(r.durationS / 60)} min (${shape})`, value: load.error_total, unit: "", goal: "0", load: cost.loadAverage1m },
    { name: "turns per minute achieved", value: load.turns_per_minute, unit: "turns/min", goal: `≈ ${r.asked}` },
    { name: "first text p50", value: load.first_text_ms.p50, unit: "ms", load: cost.loadAverage1m },
    { name: "first text p99", value: load.first_text_ms.p99, unit: "ms", load: cost.loadAverage1m },
    { name: "list conversations p50 / p99", value: load.latency_ms.list.p99, unit: "ms (p99)", note: `p50 ${load.latency_ms.list.p50} ms` },
    { name: "read history page p50 / p99", value: load.latency_ms.history.p99, unit: "ms (p99)", note: `p50 ${load.latency_ms.history.p50} ms` },
    { name: "app CPU, cores busy", value: round(appCores, 3), unit: "cores" },
    { name: "Postgres backends CPU, cores busy", value: round(pgCores, 3), unit: "cores" },
    { name: "machine idle share during the run", value: round((1 - cost.machineBusy) * 100, 1), unit: "%" },
    { name: "app + Postgres CPU per visit (1 turn + 2 reads)", value: round(cpuPerVisit, 2), unit: "ms" },
    { name: "projected ceiling per core (app + Postgres)", value: Math.round(ceilingPerCore), unit: "turns/min per core" },
    { name: "projected ceiling of one app process (its main thread)", value: Math.round(processCeiling), unit: "turns/min" },
  ];
  const goals = [
    goal(`errors, ${r.userCount.toLocaleString("en")} users, ${Math.round(r.durationS / 60)} min (${shape})`, load.error_total, { lte: 0 }, "", { note: JSON.stringify(load.errors) }),
    goal("turns per minute delivered", load.turns_per_minute, { gte: Math.round(r.connections * 20 * 0.95) }, "turns/min", { note: `${r.connections} connections × 20 visits a minute offered` }),
  ];
  return {
    benchmark: "users",
    method:
      `Postgres seeded by set-based SQL (bench/lib/crud-seed.ts) with ${r.seed.sizes.users.toLocaleString("en")} users, ${r.seed.sizes.conversations.toLocaleString("en")} conversations and ${r.seed.sizes.messages.toLocaleString("en")} messages (${r.seed.seconds} s), and an API key for every user in one insert (${r.seed.keys} s). ` +
      `The app: ${r.workers ? `\`npm start\` with WEB_CONCURRENCY=${r.workers}` : "one `next start` process"}; the mock LLM sends the first text at once and a 7-word reply at 10 ms a word. ` +
      `The load: autocannon (bench/lib/users-load.ts, its own process), ${r.connections} connections each repeating a visit — GET /api/v1/conversations?limit=20, GET …/{id}/messages?limit=20&order=desc, POST …/{id}/messages {content, stream: true} — one request a second per connection (a person's think time between steps), connections spread over the second; ` +
      `each visit is the next of the ${r.userCount.toLocaleString("en")} users (their own key, their own conversation), so ≈${r.connections * 20} turns a minute (≈${r.asked} asked: 10,000 users each sending about one message an hour is 167 a minute) and ${load.distinct_users.toLocaleString("en")} distinct users in ${Math.round((r.durationS + r.warmupS) / 6) / 10} min. ` +
      `Errors: any non-2xx, a reply stream without text or without [DONE], a time-out (30 s) or a socket error, after a ${r.warmupS} s warm-up. First text: POST written → first body chunk with a text-delta event; reads: whole response. ` +
      `CPU: /proc user + system of the app's process tree and of the Postgres backends of the bench database over the whole run (warm-up included, per visit scaled to it), and the machine's idle share from /proc/stat (the machine also runs the mock, the load generator and other people's work). ` +
      `Projected ceiling per core = 60 s ÷ (app + Postgres CPU per visit): the turns a minute (each with its two reads) one fully busy core could serve, extrapolated linearly from the measured CPU, assuming CPU is the limit (it ignores contention, the pool and the mock); one app process can use little more than one core, so its own ceiling is 60 s ÷ app CPU per visit. ${cores} cores here.`,
    quick: r.quick,
    runs: 1,
    goals,
    figures,
    tables: [
      {
        title: `${r.userCount.toLocaleString("en")} users, ${Math.round(r.durationS / 60)} min, ${shape}`,
        columns: ["request", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        rows: [
          ["list conversations", load.latency_ms.list.count, load.latency_ms.list.p50, load.latency_ms.list.p90, load.latency_ms.list.p99, load.latency_ms.list.max],
          ["read history (newest page)", load.latency_ms.history.count, load.latency_ms.history.p50, load.latency_ms.history.p90, load.latency_ms.history.p99, load.latency_ms.history.max],
          ["send message: first text", load.first_text_ms.count, load.first_text_ms.p50, load.first_text_ms.p90, load.first_text_ms.p99, load.first_text_ms.max],
          ["send message: whole reply", load.latency_ms.message.count, load.latency_ms.message.p50, load.latency_ms.message.p90, load.latency_ms.message.p99, load.latency_ms.message.max],
        ],
        note: `${load.error_total} errors ${JSON.stringify(load.errors)}; ${load.turns_per_minute} turns/min, ${load.requests_per_second} requests/s; load generator loop delay p99 ${load.client_loop_delay_p99_ms} ms.`,
      },
      {
        title: "Headroom and projected ceiling",
        columns: ["figure", "value"],
        rows: [
          ["app CPU (cores busy)", round(appCores, 3)],
          ["Postgres backends CPU (cores busy)", round(pgCores, 3)],
          ["mock LLM CPU (cores busy)", round(cost.mockCpuMs / cost.wallMs, 3)],
          ["machine idle share (%)", round((1 - cost.machineBusy) * 100, 1)],
          ["load average (1 min) at the end", round(cost.loadAverage1m, 2)],
          ["app CPU per visit (ms)", round(appPerVisit, 2)],
          ["Postgres CPU per visit (ms)", round(cost.postgresCpuMs / visitsInWindow, 2)],
          ["SQL statements per visit", cost.statements === null ? "no counter in this build" : round(cost.statements / visitsInWindow, 2)],
          ["projected turns/min per core (app + Postgres)", Math.round(ceilingPerCore)],
          ["projected turns/min of one app process", Math.round(processCeiling)],
          [`projected turns/min on all ${cores} cores (app + Postgres)`, Math.round(ceilingPerCore * cores)],
        ],
      },
    ],
    details: { load, cost, connections: r.connections, seed: r.seed, workers: r.workers ?? null },
  };
}

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
