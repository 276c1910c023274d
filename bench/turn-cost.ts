/**
 * Issue 18: what one chat turn costs. One `next start` on Postgres and the mock LLM (first text at
 * once, 10 ms per word, a 7-word reply — the issue's set-up) in their own processes; per round,
 * interleaved: the mock alone serving the same streamed request (calibration), the no-op route
 * (GET /api/health), turns one at a time (a new conversation with its first message; a follow-up
 * message) and 50 at once. Each window reports the CPU of the app's and the mock's process trees
 * and of the Postgres backends serving the bench database (from /proc), and the SQL statements
 * the app counted. Then, on a fresh app, RSS during and after 1,000 turns.
 *
 *   npx tsx bench/turn-cost.ts [--quick] [--runs 5] [--workers N]
 *
 * Needs the production build. Ports 3372 (app) and 4033 (mock), scratch database
 * bot_gpt_bench_turn (all shifted by BENCH_PORT_OFFSET). Prints one ScenarioOutput on stdout.
 */
import { AppProcess, ensureBuild } from "./lib/app-process";
import { STATEMENTS_METRIC, measureWindow, sequentialGets, type CostProbe, type WindowCost } from "./lib/cost";
import { PostgresCpu, sampleRss } from "./lib/proc";
import { emit, round } from "./lib/report";
import { benchPort, flag, log, recreateDatabase, scratchUrl, workersFlag } from "./lib/setup";
import { MockProcess, appOnMockEnv, appTarget, createConversations, lastProviderRequest, runLoadProcess, seedApiKey, sleep } from "./lib/stream-bench";
import type { StreamLoadConfig, StreamLoadResult, StreamTarget } from "./lib/stream-load";
import { perReq, turnCostReport, type Phase, type Round } from "./lib/turn-cost-report";

const REPLY = "Paris is the capital city of France.";
const METRICS_TOKEN = "bench-turn-cost-metrics-token";
const SECRET = "bench-turn-cost-secret-bench-turn-cost";

function closed(kind: "app" | "mock", targets: StreamTarget[], expectedChunks: number, concurrency: number, requestsPerWorker: number): StreamLoadConfig {
  return { kind, targets, expectedChunks, timeoutMs: 60_000, mode: { type: "closed", concurrency, requestsPerWorker } };
}

function newChatTargets(appUrl: string, key: string, count: number): StreamTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    url: `${appUrl}/api/v1/conversations`,
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ first_message: `Turn cost question ${i}: what is the capital of France?`, stream: true }),
  }));
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const runs = Number(flag(argv, "--runs") ?? (quick ? 1 : 5));
  const workers = workersFlag(argv);
  const oneAtATime = quick ? 10 : 100;
  const healthRequests = quick ? 50 : 500;
  const perWorker50 = quick ? 1 : 4;
  const memoryTurns = quick ? 100 : 1_000;
  const pgUrl = scratchUrl("bot_gpt_bench_turn");
  const database = new URL(pgUrl).pathname.slice(1);
  const adminUrl = new URL(pgUrl);
  adminUrl.pathname = "/postgres";

  ensureBuild(log);
  const mock = new MockProcess(benchPort(4033));
  await mock.start();
  await recreateDatabase(pgUrl);
  const key = await seedApiKey({ DATABASE_URL: pgUrl, AUTH_SECRET: SECRET, REDIS_URL: "" });
  const appEnv = { ...appOnMockEnv(mock.url, SECRET), DATABASE_URL: pgUrl, METRICS_TOKEN, INSTANCE_ID: "bench-turn-cost" };
  const postgres = new PostgresCpu(adminUrl.toString(), database);
  await postgres.open();
  const rounds: Round[] = [];
  const model: Record<string, unknown> = {};
  let memory: { turns: number; idleMb: number; peakMb: number; afterMb: number; load: number; dropped: number } | null = null;
  try {
    await mock.control("settings", { ttftMs: 0, chunkDelayMs: 10, reply: REPLY, record: true });
    let app = new AppProcess(benchPort(3372), appEnv, { workers });
    log(`starting the app on ${app.url} (Postgres ${database}${workers ? `, WEB_CONCURRENCY=${workers}` : ""}), mock LLM at ${mock.url}`);
    await app.start(120_000);
    try {
      const probe: CostProbe = { appPid: app.pid!, mockPid: mock.pid, postgres, appUrl: app.url, metricsToken: METRICS_TOKEN };
      const conversations = await createConversations(app.url, key, 50);
      const followUps = conversations.map((id, i) => appTarget(app.url, key, id, `Follow-up question ${i}: and of Italy?`));
      const newChats = newChatTargets(app.url, key, 50);
      // Warm-up: every conversation has its first message, Next has loaded every route involved.
      const warm = await runLoadProcess(closed("app", followUps, 0, 10, 5));
      await runLoadProcess(closed("app", newChats, 0, 5, 2));
      await sequentialGets(`${app.url}/api/health`, 20);
      if (warm.completed === 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.dropReasons)}\n${app.tail()}`);
      const provider = await lastProviderRequest(mock);
      await mock.control("settings", { record: false });
      const mockTargets = [provider];
      const mockWarm = await runLoadProcess(closed("mock", mockTargets, 0, 1, 10));
      const expected = { app: warm.chunks.p50, mock: mockWarm.chunks.p50 };
      Object.assign(model, { provider_path: provider.path, text_chunks_per_reply: expected });
      log(`warm-up done: ${warm.completed}/${warm.requests} turns; text chunks per reply app ${expected.app}, mock ${expected.mock}`);

      const streamPhase = async (label: string, config: StreamLoadConfig): Promise<Phase> => {
        const { result, cost } = await measureWindow(probe, () => runLoadProcess(config));
        return phaseOf(label, result, cost);
      };
      for (let run = 1; run <= runs; run++) {
        const round: Round = { run, phases: {} };
        // Interleaved: calibration, no-op, one at a time (new, follow-up), 50 at once (mock, app).
        round.phases.mock_1 = await streamPhase("mock_1", closed("mock", mockTargets, expected.mock, 1, oneAtATime));
        const health = await measureWindow(probe, () => sequentialGets(`${app.url}/api/health`, healthRequests));
        round.phases.noop_1 = { label: "noop_1", requests: health.result.requests, failures: health.result.failures, firstTextP50: health.result.p50, firstTextP99: health.result.p99, cost: health.cost };
        round.phases.new_1 = await streamPhase("new_1", closed("app", newChats, expected.app, 1, oneAtATime));
        round.phases.followup_1 = await streamPhase("followup_1", closed("app", followUps, expected.app, 1, oneAtATime));
        round.phases.mock_50 = await streamPhase("mock_50", closed("mock", mockTargets, expected.mock, 50, perWorker50));
        round.phases.new_50 = await streamPhase("new_50", closed("app", newChats, expected.app, 50, perWorker50));
        rounds.push(round);
        const p = round.phases;
        log(
          `round ${run}: app CPU/turn new ${fmt(perReq(p.new_1!, "appCpuMs"))} ms, follow-up ${fmt(perReq(p.followup_1!, "appCpuMs"))} ms; no-op ${fmt(perReq(p.noop_1!, "appCpuMs"))} ms; ` +
            `mock ${fmt(perReq(p.mock_1!, "mockCpuMs"))} ms; Postgres ${fmt(perReq(p.new_1!, "postgresCpuMs"))} ms; statements/turn ${fmt(perReq(p.new_1!, "statements"))}; ` +
            `50 at once: first text p50 ${fmt(p.new_50!.firstTextP50)} ms, ${fmt(p.new_50!.requests / (p.new_50!.cost.wallMs / 1000))} turns/s; load ${fmt(p.new_50!.cost.loadAverage1m)}`,
        );
      }
    } catch (error) {
      log(app.tail());
      throw error;
    } finally {
      await app.stop();
    }

    // Memory on a fresh process: RSS before, its peak during and what is left after the turns.
    app = new AppProcess(benchPort(3372), appEnv, { workers });
    await app.start(120_000);
    try {
      const targets = newChatTargets(app.url, key, 50);
      await sleep(1_000);
      const rss = sampleRss(app.pid!, 250);
      const idleMb = rss.now();
      const result = await runLoadProcess(closed("app", targets, 0, 50, memoryTurns / 50));
      await sleep(2_000);
      const afterMb = rss.now();
      const samples = rss.stop();
      memory = { turns: result.requests, idleMb, peakMb: Math.max(idleMb, afterMb, ...samples), afterMb, load: (await import("node:os")).loadavg()[0]!, dropped: result.dropped };
      log(`memory: ${result.requests} turns (${result.dropped} dropped): RSS idle ${fmt(idleMb)} MB, peak ${fmt(memory.peakMb)} MB, after ${fmt(afterMb)} MB`);
    } finally {
      await app.stop();
    }
  } finally {
    await postgres.close();
    await mock.stop();
  }
  emit(turnCostReport({ quick, runs, workers, rounds, memory, model, reply: REPLY, oneAtATime, healthRequests, perWorker50, metric: STATEMENTS_METRIC }));
}

function phaseOf(label: string, result: StreamLoadResult, cost: WindowCost): Phase {
  return { label, requests: result.completed, failures: result.dropped, firstTextP50: result.ttftMs.p50, firstTextP99: result.ttftMs.p99, cost, dropReasons: result.dropReasons };
}

const fmt = (value: number) => (Number.isFinite(value) ? round(value, 2) : "–");

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
