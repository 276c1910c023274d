/**
 * Issue 9, scenario 1: the app's own share of time to first token. The same streaming chat load
 * goes (a) through BOT GPT (`POST /api/v1/conversations/{id}/messages`, `stream: true`, API key)
 * and (b) straight at the mock LLM with the exact provider request the app sends; the overhead is
 * the difference, at 1 and 50 concurrent chats, on embedded PGlite and on Postgres.
 *
 *   npx tsx bench/ttft.ts [--quick] [--runs 3] [--ttft-ms 50] [--workers N]
 *
 * Needs the production build (`npx next build`). Uses ports 3370 (app) and 4031 (mock LLM) and
 * the scratch database bot_gpt_bench_ttft (shifted by BENCH_PORT_OFFSET, bench/lib/setup.ts). Prints one ScenarioOutput JSON on stdout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { emit, goal, median, round, type GoalResult, type Table } from "./lib/report";
import { benchPort, flag, log, recreateDatabase, scratchUrl, workersFlag } from "./lib/setup";
import { MockProcess, appOnMockEnv, appTarget, createConversations, lastProviderRequest, ms, runLoadProcess, seedApiKey } from "./lib/stream-bench";
import type { StreamLoadConfig, StreamLoadResult, StreamTarget } from "./lib/stream-load";

const APP_PORT = benchPort(3370);
const MOCK_PORT = benchPort(4031);
const PG_URL = scratchUrl("bot_gpt_bench_ttft");
const REPLY = "Sure. Here is a short answer that streams in a dozen small chunks.";
const CHUNK_DELAY_MS = 10;

type Db = "pglite" | "postgres";
type Cell = { db: Db; concurrency: number; run: number; app: StreamLoadResult; mock: StreamLoadResult };

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const runs = Number(flag(argv, "--runs") ?? (quick ? 1 : 3));
  const ttftMs = Number(flag(argv, "--ttft-ms") ?? 50);
  const levels = [
    { concurrency: 1, requestsPerWorker: quick ? 15 : 100 },
    { concurrency: 50, requestsPerWorker: quick ? 2 : 6 },
  ];
  const conversationCount = 50;

  ensureBuild(log);
  const mock = new MockProcess(MOCK_PORT);
  await mock.start();
  const cells: Cell[] = [];
  const modelCalls: Record<string, Record<string, unknown>> = {};
  try {
    for (const db of ["pglite", "postgres"] as const) {
      await mock.control("reset");
      await mock.control("settings", { ttftMs, chunkDelayMs: CHUNK_DELAY_MS, reply: REPLY, record: true });
      const dataDir = db === "pglite" ? mkdtempSync(path.join(tmpdir(), "bench-ttft-pglite-")) : "";
      if (db === "postgres") await recreateDatabase(PG_URL);
      const dbEnv: Record<string, string> = db === "postgres" ? { DATABASE_URL: PG_URL } : { DATABASE_URL: "", DATA_DIR: dataDir };
      const secret = "bench-ttft-secret-bench-ttft-secret";
      const key = await seedApiKey({ ...dbEnv, AUTH_SECRET: secret, REDIS_URL: "" });
      const app = new AppProcess(APP_PORT, {
        ...appOnMockEnv(mock.url, secret),
        ...dbEnv,
        INSTANCE_ID: `bench-ttft-${db}`,
      }, { workers: workersFlag(argv) });
      log(`[${db}] starting the app on :${APP_PORT}, mock LLM at ${mock.url} (ttft ${ttftMs} ms, ${CHUNK_DELAY_MS} ms between chunks)`);
      await app.start(120_000);
      try {
        const conversations = await createConversations(app.url, key, conversationCount);
        const appTargets = conversations.map((id, i) => appTarget(app.url, key, id, `Benchmark question ${i}: what is the capital of France?`));
        // Warm-up: every conversation gets its first message (the title is derived then, without
        // a model call), and Next compiles/caches the route. Counted model calls show what a turn costs.
        const warm = await runLoadProcess(closed("app", appTargets, 0, conversationCount, 2));
        const seen = (await mock.control("requests")) as { requests: Array<{ path: string }> };
        const generation = seen.requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path));
        modelCalls[db] = { turns: warm.requests, completed: warm.completed, chunks: warm.chunks, generation_requests: generation.length, paths: [...new Set(seen.requests.map((r) => r.path))] };
        log(`[${db}] warm-up: ${warm.completed}/${warm.requests} streams complete, ${generation.length} model calls, app chunks p50 ${warm.chunks.p50}`);
        if (generation.length !== warm.requests) log(`[${db}] note: ${warm.requests} turns made ${generation.length} model calls; app log tail:\n${app.tail(15)}`);
        if (warm.completed === 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.dropReasons)}\n${app.tail()}`);
        const provider = await lastProviderRequest(mock);
        await mock.control("settings", { record: false });
        const mockTargets: StreamTarget[] = [provider];
        const mockWarm = await runLoadProcess(closed("mock", mockTargets, 0, 10, 1));
        const expected = { app: warm.chunks.p50, mock: mockWarm.chunks.p50 };
        log(`[${db}] provider request ${provider.path}; text chunks per reply: app ${expected.app}, mock ${expected.mock}`);

        for (let run = 1; run <= runs; run++) {
          for (const level of levels) {
            const mockResult = await runLoadProcess(closed("mock", mockTargets, expected.mock, level.concurrency, level.requestsPerWorker));
            const appResult = await runLoadProcess(closed("app", appTargets, expected.app, level.concurrency, level.requestsPerWorker));
            cells.push({ db, concurrency: level.concurrency, run, app: appResult, mock: mockResult });
            log(
              `[${db}] run ${run}, ${level.concurrency} concurrent: TTFT p50 app ${ms(appResult.ttftMs.p50)} / mock ${ms(mockResult.ttftMs.p50)} ms, ` +
                `p99 app ${ms(appResult.ttftMs.p99)} / mock ${ms(mockResult.ttftMs.p99)} ms; dropped app ${appResult.dropped}, mock ${mockResult.dropped}`,
            );
          }
        }
      } finally {
        await app.stop();
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await mock.stop();
  }

  const goals: GoalResult[] = [];
  const rows: Table["rows"] = [];
  const summary: Record<string, unknown> = {};
  for (const db of ["pglite", "postgres"] as const) {
    for (const level of levels) {
      const mine = cells.filter((c) => c.db === db && c.concurrency === level.concurrency);
      const pick = (f: (c: Cell) => number) => median(mine.map(f));
      const appP50 = pick((c) => c.app.ttftMs.p50);
      const appP99 = pick((c) => c.app.ttftMs.p99);
      const mockP50 = pick((c) => c.mock.ttftMs.p50);
      const mockP99 = pick((c) => c.mock.ttftMs.p99);
      const overP50 = pick((c) => c.app.ttftMs.p50 - c.mock.ttftMs.p50);
      const overP99 = pick((c) => c.app.ttftMs.p99 - c.mock.ttftMs.p99);
      const dropped = mine.reduce((n, c) => n + c.app.dropped, 0);
      const label = `${level.concurrency} concurrent, ${db === "pglite" ? "PGlite" : "Postgres"}`;
      const note = `median of ${mine.length} run(s): app TTFT ${round(appP50, 1)}/${round(appP99, 1)} ms (p50/p99) vs mock ${round(mockP50, 1)}/${round(mockP99, 1)} ms`;
      goals.push(goal(`TTFT overhead p50, ${label}`, overP50, { lte: 10 }, "ms", { calibration: round(mockP50, 2), note }));
      goals.push(goal(`TTFT overhead p99, ${label}`, overP99, { lte: 30 }, "ms", { calibration: round(mockP99, 2), note }));
      rows.push([db, level.concurrency, ms(mockP50), ms(appP50), ms(overP50), ms(mockP99), ms(appP99), ms(overP99), round(appP50 / mockP50, 2), round(appP99 / mockP99, 2), mine.reduce((n, c) => n + c.app.requests, 0), dropped]);
      summary[`${db}_${level.concurrency}`] = { app_p50: ms(appP50), app_p99: ms(appP99), mock_p50: ms(mockP50), mock_p99: ms(mockP99), overhead_p50: ms(overP50), overhead_p99: ms(overP99) };
    }
  }

  emit({
    benchmark: "ttft",
    method:
      `Time to first token (request sent → first text chunk) for streaming chat turns, measured by a load generator in its own process (bench/lib/stream-load.ts, node:http, no socket limit). ` +
      `The mock LLM (test/mock-llm, own process) waits ${ttftMs} ms before its first token and then streams a ${REPLY.split(" ").length}-word reply at ${CHUNK_DELAY_MS} ms per chunk. ` +
      `Through BOT GPT: \`next start\` with a Bearer API key posting {content, stream: true} to /api/v1/conversations/{id}/messages, one conversation per concurrent worker (${conversationCount} conversations, ` +
      `workers rotate through them), response cache off, rate limits and budgets out of the way; once on embedded PGlite (fresh DATA_DIR) and once on Postgres. ` +
      `Calibration: the same closed-loop load straight against the mock, replaying the exact provider request (path, body, Authorization) the app sent, captured from /__mock/requests. ` +
      `The app calls the OpenAI Responses API, whose stream opens with four events before the first text delta, each paced like a chunk, so the mock's own TTFT is about ttft + 4 × chunk delay; both paths include it. ` +
      `Overhead = app TTFT − mock TTFT, per run at p50 and p99, reported as the median over ${runs} run(s); calibration and app runs alternate within each run. ` +
      `Concurrency 1: ${levels[0]!.requestsPerWorker} sequential turns; concurrency 50: 50 workers × ${levels[1]!.requestsPerWorker} turns. ` +
      `A warm-up turn in every conversation comes first: the first message of a conversation only derives its title from the text (lib/chat/title.ts, no model call), and rolling summaries run off the reply path and only when history overflows the window, ` +
      `which these short conversations never do; the warm-up counted the model calls per turn (details.model_calls). App, mock and load generator share one 2-core machine.`,
    quick,
    runs,
    goals,
    tables: [
      {
        title: "Time to first token: straight to the mock (calibration) vs through BOT GPT",
        columns: ["database", "concurrent chats", "mock p50 ms", "app p50 ms", "overhead p50 ms", "mock p99 ms", "app p99 ms", "overhead p99 ms", "ratio p50", "ratio p99", "app turns", "app dropped"],
        rows,
        note: `Medians over ${runs} run(s) of each run's p50/p99; overhead is computed per run, then the median taken.`,
      },
    ],
    details: {
      ttft_ms: ttftMs,
      chunk_delay_ms: CHUNK_DELAY_MS,
      reply: REPLY,
      model_calls: modelCalls,
      summary,
      per_run: cells.map((c) => ({
        db: c.db,
        concurrency: c.concurrency,
        run: c.run,
        app: { ttft: c.app.ttftMs, requests: c.app.requests, dropped: c.app.dropped, drop_reasons: c.app.dropReasons, client_loop_delay_ms: c.app.clientLoopDelayMs },
        mock: { ttft: c.mock.ttftMs, requests: c.mock.requests, dropped: c.mock.dropped, drop_reasons: c.mock.dropReasons, client_loop_delay_ms: c.mock.clientLoopDelayMs },
      })),
    },
  });
}

function closed(kind: "app" | "mock", targets: StreamTarget[], expectedChunks: number, concurrency: number, requestsPerWorker: number): StreamLoadConfig {
  return { kind, targets, expectedChunks, timeoutMs: 60_000, mode: { type: "closed", concurrency, requestsPerWorker } };
}

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
