/**
 * CRUD under load (issue 9, scenario 3): Postgres seeded with 10,000 users, 100,000 conversations
 * and 1,000,000 messages by set-based SQL (timed), then the read routes — list
 * (GET /api/v1/conversations), detail (GET /api/v1/conversations/{id}) and page
 * (GET /api/v1/conversations/{id}/messages with a cursor) — driven at 500 RPS by autocannon in a
 * separate process (bench/lib/crud-load.ts) against a real `next start`, API keys for 500 users.
 * Calibration: the same load, same client, against the mock LLM's GET /v1/models in its own
 * process. Also EXPLAIN (ANALYZE, BUFFERS) of the SQL the app's query functions send.
 *
 *   npx tsx bench/crud.ts [--quick] [--runs 3] [--rate 500] [--duration 20] [--workers N]
 *     [--url postgres://postgres@127.0.0.1:5432/bot_gpt_bench_crud] [--port 3380] [--mock-port 4032]
 *
 * Prints one ScenarioOutput JSON object on stdout; progress on stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { MockProcess, runTsx } from "./lib/stream-bench";
import type { LoadKind, LoadResult, TargetsFile } from "./lib/crud-load";
import { explainAll, recordQueries, type QueryPlan } from "./lib/crud-plans";
import { createTargets, seedScratchDatabase, type CrudSizes } from "./lib/crud-seed";
import { emit, goal, median, round, type GoalResult, type Table } from "./lib/report";
import { benchPort, flag, log, scratchUrl, workersFlag } from "./lib/setup";

const KINDS: Array<Exclude<LoadKind, "mock">> = ["list", "detail", "page"];
const P99_GOAL_MS = 20;
const SEED_GOAL_S = 600;

async function load(url: string, kind: LoadKind, targetsPath: string, rate: number, durationS: number, warmupS: number, connections = 10): Promise<LoadResult> {
  const args = ["bench/lib/crud-load.ts", "--url", url, "--kind", kind, "--targets", targetsPath, "--connections", String(connections)];
  const out = await runTsx(args[0]!, [...args.slice(1), "--rate", String(rate), "--duration", String(durationS), "--warmup", String(warmupS)], {}, (durationS + warmupS + 120) * 1000);
  return JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult;
}

/** The SQL behind each route, recorded from the app's query functions and explained. */
async function capturePlans(url: string, targets: TargetsFile): Promise<QueryPlan[]> {
  const { getDb } = await import("../lib/db/client");
  const { authenticateApiKey } = await import("../lib/db/queries/api-keys");
  const { listConversations, getConversationOrThrow } = await import("../lib/db/queries/conversations");
  const { listAllMessages, listMessagesPage, messagesCursorScope } = await import("../lib/db/queries/messages");
  const { listConversationDocumentIds } = await import("../lib/db/queries/documents");
  const { serializeMessagesFor } = await import("../lib/api/serialize");
  await getDb();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  // A typical caller (the sample's median) and the heaviest: the user with the most conversations, the longest chat.
  const typicalKey = [...targets.keys].sort((a, b) => a.conversations.length - b.conversations.length)[Math.floor(targets.keys.length / 2)]!;
  const typicalConversation = [...typicalKey.conversations].sort((a, b) => a.lastSeq - b.lastSeq)[Math.floor(typicalKey.conversations.length / 2)]!;
  const heavy = (await db.query<{ user_id: string; n: number }>("select user_id, count(*)::int as n from conversations group by user_id order by n desc limit 1")).rows[0]!;
  const longest = (await db.query<{ id: string; user_id: string; last_seq: number }>("select id, user_id, last_seq from conversations order by last_seq desc limit 1")).rows[0]!;
  const typicalUser = (await db.query<{ user_id: string }>("select user_id from conversations where id = $1", [typicalConversation.id])).rows[0]!.user_id;
  await db.end();
  const { encodeCursor } = await import("../lib/api/pagination");

  const cases = [
    { label: `typical (${typicalConversation.lastSeq} messages)`, userId: typicalUser, id: typicalConversation.id, lastSeq: typicalConversation.lastSeq },
    { label: `longest chat (${longest.last_seq} messages)`, userId: longest.user_id, id: longest.id, lastSeq: longest.last_seq },
  ];
  const users = [
    { label: `typical user (${typicalKey.conversations.length} conversations)`, userId: typicalUser },
    { label: `heaviest user (${heavy.n} conversations)`, userId: heavy.user_id },
  ];
  const plans: QueryPlan[] = [];
  const authQueries = await recordQueries(() => authenticateApiKey(typicalKey.key));
  plans.push(...(await explainAll(url, "auth (every request)", "API key lookup", authQueries)));
  for (const u of users) {
    plans.push(
      ...(await explainAll(url, "list", u.label, await recordQueries(async () => {
        const page = await listConversations({ userId: u.userId, limit: 20, archived: false });
        await listConversationDocumentIds({ conversationIds: page.rows.map((c) => c.id) });
      }))),
    );
  }
  for (const c of cases) {
    plans.push(
      ...(await explainAll(url, "detail", c.label, await recordQueries(async () => {
        const conversation = await getConversationOrThrow({ id: c.id, userId: c.userId });
        const rows = await listAllMessages({ conversationId: conversation.id });
        await listConversationDocumentIds({ conversationIds: [conversation.id] });
        await serializeMessagesFor(rows, c.userId);
      }))),
    );
    const middle = Math.floor(c.lastSeq / 2);
    plans.push(
      ...(await explainAll(url, "page", `${c.label}, forward from the middle`, await recordQueries(async () => {
        await getConversationOrThrow({ id: c.id, userId: c.userId });
        const scope = { userId: c.userId, conversationId: c.id };
        const page = await listMessagesPage({ ...scope, limit: 20, cursor: await encodeCursor({ seq: middle }, messagesCursorScope(scope)), order: "asc" });
        await serializeMessagesFor(page.rows, c.userId);
      }))),
    );
    plans.push(
      ...(await explainAll(url, "page", `${c.label}, back from the middle`, await recordQueries(async () => {
        const scope = { userId: c.userId, conversationId: c.id };
        await listMessagesPage({ ...scope, limit: 20, cursor: await encodeCursor({ seq: middle + 1, order: "desc" }, messagesCursorScope(scope)), order: "desc" });
      }))),
    );
  }
  return plans;
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const runs = Number(flag(argv, "--runs") ?? (quick ? 1 : 3));
  const rate = Number(flag(argv, "--rate") ?? (quick ? 100 : 500));
  const durationS = Number(flag(argv, "--duration") ?? (quick ? 3 : 20));
  const warmupS = quick ? 1 : 2;
  const sizes: CrudSizes = quick ? { users: 200, conversations: 2_000, messages: 20_000 } : { users: 10_000, conversations: 100_000, messages: 1_000_000 };
  const keyCount = Number(flag(argv, "--keys") ?? (quick ? 50 : 500));
  const url = flag(argv, "--url") ?? scratchUrl("bot_gpt_bench_crud");
  const port = Number(flag(argv, "--port") ?? benchPort(3380));
  const mockPort = Number(flag(argv, "--mock-port") ?? benchPort(4032));
  const secret = "crud-bench-secret-crud-bench-secret";

  ensureBuild(log);
  const { seed, closeDb } = await seedScratchDatabase(url, sizes, { secret, instanceId: "crud-driver" }, log);
  const targets = await createTargets(url, keyCount);
  const dir = mkdtempSync(path.join(os.tmpdir(), "crud-bench-"));
  const targetsPath = path.join(dir, "targets.json");
  writeFileSync(targetsPath, JSON.stringify(targets));
  log(`${targets.keys.length} API keys, ${targets.keys.reduce((n, k) => n + k.conversations.length, 0)} of their conversations`);
  const plans = await capturePlans(url, targets);
  await closeDb();

  const mock = new MockProcess(mockPort);
  await mock.start();
  const app = new AppProcess(port, {
    DATABASE_URL: url,
    AUTH_SECRET: secret,
    REDIS_URL: "",
    LOG_LEVEL: "warn",
    INSTANCE_ID: "crud-1",
    RATE_LIMIT_PER_MINUTE: "100000000",
    RATE_LIMIT_CHAT_PER_MINUTE: "100000000",
    OPENAI_API_KEY: "",
    GROQ_API_KEY: "",
  }, { workers: workersFlag(argv) });
  const perRun: Array<Record<LoadKind, LoadResult>> = [];
  // Once, after the runs: a rate the single process can keep up with, and its closed-loop capacity.
  const lowRate = Number(flag(argv, "--low-rate") ?? (quick ? 20 : 50));
  const extraS = quick ? 1 : 10;
  const below = {} as Record<LoadKind, LoadResult>;
  const capacity = {} as Record<LoadKind, LoadResult>;
  try {
    await app.start();
    log(`app on ${app.url}, mock LLM on ${mock.url}; warming up`);
    if (!quick) {
      for (const kind of KINDS) await load(app.url, kind, targetsPath, rate, 5, 1);
      await load(mock.url, "mock", targetsPath, rate, 1, 1);
    }
    const report = (label: string, r: LoadResult) =>
      log(`${label} ${r.kind}: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.achieved_rps} RPS, non-2xx ${r.non_2xx}, errors ${r.errors + r.timeouts}`);
    for (let run = 1; run <= runs; run++) {
      const results = {} as Record<LoadKind, LoadResult>;
      // Calibration first, then each route, each at the same rate for the same time.
      for (const kind of ["mock", ...KINDS] as LoadKind[]) {
        results[kind] = await load(kind === "mock" ? mock.url : app.url, kind, targetsPath, rate, durationS, warmupS);
        report(`run ${run}`, results[kind]);
      }
      perRun.push(results);
    }
    for (const kind of ["mock", ...KINDS] as LoadKind[]) {
      const target = kind === "mock" ? mock.url : app.url;
      below[kind] = await load(target, kind, targetsPath, lowRate, extraS, 1);
      report(`${lowRate} RPS`, below[kind]);
      capacity[kind] = await load(target, kind, targetsPath, 0, extraS, 1, 10);
      report("capacity (10 connections, closed loop)", capacity[kind]);
    }
  } catch (error) {
    log(app.tail());
    throw error;
  } finally {
    await app.stop();
    await mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const med = (kind: LoadKind, field: "p50_ms" | "p90_ms" | "p99_ms" | "max_ms" | "achieved_rps") => round(median(perRun.map((r) => r[kind][field])), 2);
  const failures = (kind: LoadKind) => perRun.reduce((n, r) => n + r[kind].non_2xx + r[kind].errors + r[kind].timeouts, 0);
  const calibrationP99 = med("mock", "p99_ms");
  const sizeLabel = `${sizes.users.toLocaleString("en")} users / ${sizes.conversations.toLocaleString("en")} conversations / ${sizes.messages.toLocaleString("en")} messages`;
  const goals: GoalResult[] = KINDS.map((kind) => {
    const bad = failures(kind);
    const slow = med(kind, "achieved_rps") < rate * 0.95;
    const g = goal(`${kind} p99 at ${rate} RPS (${sizeLabel}, Postgres)`, med(kind, "p99_ms"), { lte: P99_GOAL_MS }, "ms", {
      calibration: calibrationP99,
      note: [
        `median of ${runs} run(s) of ${durationS} s; calibration: GET /v1/models on the mock LLM, same load`,
        bad > 0 ? `${bad} non-2xx/errors/timeouts: not a pass` : "",
        slow ? `achieved only ${med(kind, "achieved_rps")} RPS` : "",
      ].filter(Boolean).join("; "),
    });
    return { ...g, met: g.met && bad === 0 && !slow };
  });
  goals.push(goal(`seed ${sizeLabel} (minutes, not hours)`, seed.seconds, { lte: SEED_GOAL_S }, "s", { note: "set-based SQL, indexes rebuilt, VACUUM ANALYZE included" }));

  const loadTable: Table = {
    title: `Read routes at ${rate} RPS (median of ${runs} run(s) × ${durationS} s; ${sizeLabel})`,
    columns: ["route", "p50 ms", "p90 ms", "p99 ms", "max ms", "achieved RPS", "non-2xx + errors", "calibration p99 ms", "p99 ratio"],
    rows: (["mock", ...KINDS] as LoadKind[]).map((kind) => [
      kind === "mock" ? "calibration: mock LLM GET /v1/models" : kind,
      med(kind, "p50_ms"),
      med(kind, "p90_ms"),
      med(kind, "p99_ms"),
      med(kind, "max_ms"),
      med(kind, "achieved_rps"),
      failures(kind),
      calibrationP99,
      calibrationP99 > 0 ? round(med(kind, "p99_ms") / calibrationP99, 2) : null,
    ]),
    note: "autocannon in its own process, one request per connection per second, connections started 1000/rate ms apart (evenly spaced arrivals); the first seconds of each run are not counted.",
  };
  const extraTable: Table = {
    title: `Below saturation (${lowRate} RPS, paced) and capacity (10 connections, closed loop), ${extraS} s each, once`,
    columns: ["route", `p50 ms at ${lowRate} RPS`, `p99 ms at ${lowRate} RPS`, "non-2xx + errors", "capacity RPS", "p50 ms at capacity", "p99 ms at capacity"],
    rows: (["mock", ...KINDS] as LoadKind[]).map((kind) => [
      kind === "mock" ? "calibration: mock LLM GET /v1/models" : kind,
      below[kind].p50_ms,
      below[kind].p99_ms,
      below[kind].non_2xx + below[kind].errors + below[kind].timeouts + capacity[kind].non_2xx + capacity[kind].errors + capacity[kind].timeouts,
      capacity[kind].achieved_rps,
      capacity[kind].p50_ms,
      capacity[kind].p99_ms,
    ]),
    note: "Not goals: where the one `next start` process stands when it is not asked for more than it can serve, and how much it can serve.",
  };
  const seedTable: Table = {
    title: `Seeding (${sizeLabel}): ${seed.seconds} s, database ${seed.megabytes.database} MB`,
    columns: ["step", "seconds"],
    rows: seed.steps.map((s) => [s.step, s.seconds]),
  };
  const listSorted = plans.some((p) => p.route === "list" && p.sort_key?.startsWith("activity_at"));
  const planTable: Table = {
    title: "Query plans of the hot SQL (EXPLAIN (ANALYZE, BUFFERS), warm cache)",
    note: listSorted
      ? "list sorts every conversation of the user before the LIMIT: conversations_user_activity_idx is (user_id, archived, activity_at DESC NULLS LAST, id DESC NULLS LAST) " +
        "but the query orders by activity_at DESC, id DESC (NULLS FIRST), so the planner cannot walk the index in order."
      : undefined,
    columns: ["route", "case", "statement", "top node", "indexes", "seq scans", "sort (not index order)", "execution ms", "buffers hit/read"],
    rows: plans.map((p) => [
      p.route,
      p.case,
      p.sql.replace(/\s+/g, " ").slice(0, 90),
      p.top_node,
      p.indexes.join(", ") || "—",
      p.seq_scans.join(", ") || "—",
      p.sort_key ?? "—",
      p.execution_ms,
      `${p.shared_hit}/${p.shared_read}`,
    ]),
  };

  emit({
    benchmark: "crud",
    method:
      `Postgres seeded with ${sizeLabel} by set-based SQL (INSERT … SELECT over generate_series; messages in time order, gap-free seq, ` +
      "conversation counters and last-message times derived from the messages, 3 % of replies rated; secondary indexes rebuilt and VACUUM ANALYZE, all timed). " +
      `API keys for ${targets.keys.length} random users made with the app's createApiKey. A production \`next start\` (one process, in-memory rate limiter set out of reach, LOG_LEVEL=warn) ` +
      `served GET /api/v1/conversations?limit=20 (list), GET /api/v1/conversations/{id} (detail: full history) and GET …/{id}/messages?limit=20 with a cursor into the middle ` +
      `(40 % forward, 40 % backward) or the newest page (20 %) at ${rate} RPS for ${durationS} s per run, ${runs} run(s); every request a random key and one of its user's ` +
      "conversations. Load from autocannon in a separate process; latencies per response, non-2xx counted (any fails the goal). Calibration: the same load straight " +
      "against the mock LLM's GET /v1/models, run before the routes in each run. Once after the runs, each route (and the mock) also at a low paced rate and " +
      "closed-loop with 10 connections (capacity), to place the goal figure. Query plans: the SQL the app's query functions send, recorded in-process and EXPLAINed with its parameters.",
    quick,
    runs,
    goals,
    tables: [loadTable, extraTable, seedTable, planTable],
    details: {
      settings: { rate, duration_s: durationS, warmup_s: warmupS, runs, sizes, keys: targets.keys.length, connections: rate, machine: { cpus: os.cpus().length, node: process.version } },
      seed,
      per_run: perRun,
      below_saturation: below,
      capacity,
      query_plans: plans,
    },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
