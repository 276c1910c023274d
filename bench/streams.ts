/**
 * Issue 9, scenario 2: many concurrent streaming chats on one `next start` (Postgres). The mock LLM
 * emits one token every 20 ms; a load generator in its own process opens streams at a steady rate
 * until the target number (1,000 by default) are open at once and keeps them open for the hold.
 * Reported: dropped streams, the inter-chunk gap p99 through the app against the same ramp straight
 * at the mock (calibration), the RSS of the app's process tree and the event-loop lag from
 * /api/metrics.
 *
 *   npx tsx bench/streams.ts [--quick] [--runs 3] [--streams 1000] [--open-per-second 100] [--hold-ms 15000] [--workers N]
 *
 * Needs the production build (`npx next build`). Uses ports 3371 (app) and 4031 (mock LLM) and
 * the scratch database bot_gpt_bench_streams (shifted by BENCH_PORT_OFFSET, bench/lib/setup.ts). Prints one ScenarioOutput JSON on stdout.
 */
import { AppProcess, ensureBuild } from "./lib/app-process";
import { sampleRss } from "./lib/proc";
import { emit, goal, median, round, type GoalResult } from "./lib/report";
import { benchPort, flag, log, recreateDatabase, scratchUrl, workersFlag } from "./lib/setup";
import { MockProcess, appOnMockEnv, appTarget, createConversations, findAppPid, lastProviderRequest, ms, runLoadProcess, scrapeLoopLag, seedApiKey, sleep } from "./lib/stream-bench";
import type { StreamLoadConfig, StreamLoadResult, StreamTarget } from "./lib/stream-load";

const APP_PORT = benchPort(3371);
const MOCK_PORT = benchPort(4031);
const PG_URL = scratchUrl("bot_gpt_bench_streams");
const CHUNK_DELAY_MS = 20;
const TTFT_MS = 50;
const METRICS_TOKEN = "bench-streams-metrics-token";

type Run = {
  run: number;
  app: StreamLoadResult;
  mock: StreamLoadResult;
  rssPeakMb: number;
  rssIdleMb: number;
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  scrapes: number;
  scrapeFailures: number;
};

/** A reply of `words` one-word chunks (the mock streams one word per chunk). */
function replyOf(words: number): string {
  const vocabulary = ["stream", "token", "reply", "chunk", "answer", "model", "server", "client", "latency", "benchmark"];
  return Array.from({ length: words }, (_, i) => vocabulary[i % vocabulary.length]).join(" ") + ".";
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const runs = Number(flag(argv, "--runs") ?? (quick ? 1 : 3));
  const streams = Number(flag(argv, "--streams") ?? (quick ? 50 : 1000));
  const openPerSecond = Number(flag(argv, "--open-per-second") ?? (quick ? 50 : 100));
  const holdMs = Number(flag(argv, "--hold-ms") ?? (quick ? 3_000 : 15_000));
  const words = Number(flag(argv, "--words") ?? (quick ? 100 : 300));
  const reply = replyOf(words);

  ensureBuild(log);
  const mock = new MockProcess(MOCK_PORT);
  await mock.start();
  const results: Run[] = [];
  const counts: Record<string, unknown> = {};
  try {
    await mock.control("reset");
    await mock.control("settings", { ttftMs: TTFT_MS, chunkDelayMs: CHUNK_DELAY_MS, reply, record: true });
    await recreateDatabase(PG_URL);
    const secret = "bench-streams-secret-bench-streams";
    const key = await seedApiKey({ DATABASE_URL: PG_URL, AUTH_SECRET: secret, REDIS_URL: "" });
    const app = new AppProcess(APP_PORT, {
      ...appOnMockEnv(mock.url, secret),
      DATABASE_URL: PG_URL,
      METRICS_TOKEN,
      INSTANCE_ID: "bench-streams",
    }, { workers: workersFlag(argv) });
    log(`starting the app on :${APP_PORT} (Postgres), mock LLM at ${mock.url}: ${words}-word reply, one word per ${CHUNK_DELAY_MS} ms`);
    await app.start(120_000);
    try {
      const pid = findAppPid(APP_PORT);
      log(`creating ${streams} conversations…`);
      const conversations = await createConversations(app.url, key, streams);
      const appTargets = conversations.map((id, i) => appTarget(app.url, key, id, `Stream benchmark question ${i}: tell me about streaming.`));
      const warm = await runLoadProcess({ kind: "app", targets: appTargets.slice(0, 20), expectedChunks: 0, timeoutMs: 120_000, mode: { type: "closed", concurrency: 20, requestsPerWorker: 1 } });
      if (warm.completed === 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.dropReasons)}\n${app.tail()}`);
      const provider = await lastProviderRequest(mock);
      await mock.control("settings", { record: false });
      const mockTargets: StreamTarget[] = [provider];
      const mockWarm = await runLoadProcess({ kind: "mock", targets: mockTargets, expectedChunks: 0, timeoutMs: 120_000, mode: { type: "closed", concurrency: 5, requestsPerWorker: 1 } });
      const expected = { app: warm.chunks.p50, mock: mockWarm.chunks.p50 };
      Object.assign(counts, { app_text_chunks_per_reply: expected.app, mock_text_chunks_per_reply: expected.mock, provider_path: provider.path });
      log(`warm-up: text chunks per reply: app ${expected.app}, mock ${expected.mock} (provider ${provider.path})`);

      const ramp = (kind: "app" | "mock", targets: StreamTarget[], expectedChunks: number): StreamLoadConfig => ({
        kind,
        targets,
        expectedChunks,
        timeoutMs: 180_000,
        mode: { type: "ramp", target: streams, openPerSecond, holdMs },
      });
      for (let run = 1; run <= runs; run++) {
        const mockResult = await runLoadProcess(ramp("mock", mockTargets, expected.mock));
        log(`run ${run} calibration (mock): ${mockResult.completed}/${mockResult.requests} complete, peak open ${mockResult.peakConcurrency}, flowing ${mockResult.peakStreaming}, gap p99 ${ms(mockResult.gapMs.p99)} ms`);
        await sleep(1_000);
        const rss = sampleRss(pid, 250);
        const rssIdleMb = rss.now();
        const lag = scrapeLoopLag(app.url, METRICS_TOKEN, 1_000);
        const appResult = await runLoadProcess(ramp("app", appTargets, expected.app));
        const rssSamples = rss.stop();
        const lagSamples = await lag.stop();
        const result: Run = {
          run,
          app: appResult,
          mock: mockResult,
          rssPeakMb: Math.max(rssIdleMb, ...rssSamples),
          rssIdleMb,
          loopLagP99Ms: lagSamples.p99.length ? Math.max(...lagSamples.p99) : NaN,
          loopLagMaxMs: lagSamples.max.length ? Math.max(...lagSamples.max) : NaN,
          scrapes: lagSamples.p99.length,
          scrapeFailures: lagSamples.failures,
        };
        results.push(result);
        log(
          `run ${run} app: ${appResult.completed}/${appResult.requests} complete (dropped ${appResult.dropped} ${JSON.stringify(appResult.dropReasons)}), peak open ${appResult.peakConcurrency}, flowing ${appResult.peakStreaming}, TTFT p50 ${ms(appResult.ttftMs.p50)} ms, ` +
            `gap p99 ${ms(appResult.gapMs.p99)} ms (mock ${ms(mockResult.gapMs.p99)}), RSS peak ${Math.round(result.rssPeakMb)} MB, loop lag p99 ${ms(result.loopLagP99Ms)} / max ${ms(result.loopLagMaxMs)} ms`,
        );
        await sleep(2_000);
      }
    } finally {
      await app.stop();
    }
  } finally {
    await mock.stop();
  }

  const pick = (f: (r: Run) => number) => median(results.map(f));
  const dropped = results.reduce((n, r) => n + r.app.dropped, 0); // every run counts
  const appGapP99 = pick((r) => r.app.gapMs.p99);
  const mockGapP99 = pick((r) => r.mock.gapMs.p99);
  const addedP99 = pick((r) => r.app.gapMs.p99 - r.mock.gapMs.p99);
  const rssPeak = pick((r) => r.rssPeakMb);
  // The fresh process before the first ramp: later runs start where the previous peak left RSS
  // (V8 keeps the heap it grew), so their "idle" is not a baseline.
  const rssIdle = results[0]?.rssIdleMb ?? NaN;
  const peak = pick((r) => r.app.peakConcurrency);
  const mockPeak = pick((r) => r.mock.peakConcurrency);
  const flowing = pick((r) => r.app.peakStreaming);
  const mockFlowing = pick((r) => r.mock.peakStreaming);
  const goals: GoalResult[] = [
    goal(`Dropped streams, ramp to ${streams}`, dropped, { lte: 0 }, "streams", {
      calibration: pick((r) => r.mock.dropped),
      note: `median over runs; streams per run through the app: ${results.map((r) => r.app.requests).join(", ")}`,
    }),
    goal("Added inter-chunk gap p99", addedP99, { lte: 10 }, "ms", {
      calibration: round(mockGapP99, 2),
      note: `app gap p99 ${round(appGapP99, 1)} ms vs mock ${round(mockGapP99, 1)} ms (median over runs); time to first text chunk p50 app ${round(pick((r) => r.app.ttftMs.p50), 0)} ms vs mock ${round(pick((r) => r.mock.ttftMs.p50), 0)} ms`,
    }),
    goal("Peak RSS of the app's process tree", rssPeak, { lte: 512 }, "MB", { calibration: round(rssIdle, 1), note: "calibration: the same tree idle, before the first ramp" }),
    goal("Peak concurrent replies flowing (first text chunk seen, not yet ended)", flowing, { gte: streams }, "streams", {
      calibration: mockFlowing,
      note: `requests open at once: ${peak} through the app, ${mockPeak} straight to the mock`,
    }),
  ];
  const row = (name: string, f: (r: Run) => number, g: (r: Run) => number) => [name, ms(pick(f)), ms(pick(g)), ms(pick((r) => f(r) - g(r)))];
  emit({
    benchmark: "streams",
    method:
      `One \`next start\` on Postgres (pool ${process.env.DATABASE_POOL_MAX ?? "default 10"}, no Redis, response cache off) and the mock LLM in its own process: ${TTFT_MS} ms to the first token, then a ${words}-word reply ` +
      `at one word (one chunk) per ${CHUNK_DELAY_MS} ms. A load generator in a third process (bench/lib/stream-load.ts, node:http, no socket limit) opens streaming chat turns ` +
      `(POST /api/v1/conversations/{id}/messages, stream: true, Bearer API key, one conversation per slot) at ${openPerSecond}/s until ${streams} are open at once; each slot starts a new turn as soon as ` +
      `its reply ends, until ${holdMs / 1000} s after the ramp. A stream is dropped on an HTTP error, a reset, a time-out, a missing finish/[DONE] or fewer text chunks than a warm-up reply had. ` +
      `The app calls the OpenAI Responses API (four events, each paced like a chunk, precede the first text delta). ` +
      `Calibration: the same ramp straight against the mock, replaying the provider request the app sent (captured from /__mock/requests). ` +
      `Gaps are between consecutive text chunks as the client sees them (text-delta events through the app, text deltas from the mock). ` +
      `RSS: VmRSS of \`next start\` and all its children summed, sampled every 250 ms; event-loop lag: botgpt_process_nodejs_eventloop_lag_p99/max scraped from /api/metrics every second ` +
      `(prom-client resets its histogram on each scrape), the worst scrape reported. Medians over ${runs} run(s). App, mock and load generator share one 2-core machine.`,
    quick,
    runs,
    goals,
    tables: [
      {
        title: `Ramp to ${streams} concurrent streams: straight to the mock (calibration) vs through BOT GPT`,
        columns: ["figure", "app", "mock", "added"],
        rows: [
          row("inter-chunk gap p50 ms", (r) => r.app.gapMs.p50, (r) => r.mock.gapMs.p50),
          row("inter-chunk gap p99 ms", (r) => r.app.gapMs.p99, (r) => r.mock.gapMs.p99),
          row("inter-chunk gap max ms", (r) => r.app.gapMs.max, (r) => r.mock.gapMs.max),
          row("TTFT p50 ms", (r) => r.app.ttftMs.p50, (r) => r.mock.ttftMs.p50),
          row("TTFT p99 ms", (r) => r.app.ttftMs.p99, (r) => r.mock.ttftMs.p99),
          row("streams", (r) => r.app.requests, (r) => r.mock.requests),
          row("dropped", (r) => r.app.dropped, (r) => r.mock.dropped),
          row("peak requests open at once", (r) => r.app.peakConcurrency, (r) => r.mock.peakConcurrency),
          row("peak replies flowing at once (first text seen, not ended)", (r) => r.app.peakStreaming, (r) => r.mock.peakStreaming),
          row("text chunks per reply (p50)", (r) => r.app.chunks.p50, (r) => r.mock.chunks.p50),
          row("load generator loop delay p99 ms", (r) => r.app.clientLoopDelayMs.p99, (r) => r.mock.clientLoopDelayMs.p99),
        ],
        note: "Medians over runs of each run's figure; \"added\" is app − mock per run, then the median.",
      },
      {
        title: "The app process during the ramp",
        columns: ["figure", "value"],
        rows: [
          ["RSS idle before the first ramp (MB)", ms(rssIdle)],
          ["RSS peak (MB)", ms(rssPeak)],
          ["event-loop lag p99, worst 1 s scrape (ms)", ms(pick((r) => r.loopLagP99Ms))],
          ["event-loop lag max (ms)", ms(pick((r) => r.loopLagMaxMs))],
        ],
      },
    ],
    details: {
      streams,
      open_per_second: openPerSecond,
      hold_ms: holdMs,
      words,
      chunk_delay_ms: CHUNK_DELAY_MS,
      ttft_ms: TTFT_MS,
      counts,
      per_run: results.map((r) => ({
        run: r.run,
        app: { ...r.app },
        mock: { ...r.mock },
        rss_peak_mb: ms(r.rssPeakMb),
        rss_idle_mb: ms(r.rssIdleMb),
        loop_lag_p99_ms: ms(r.loopLagP99Ms),
        loop_lag_max_ms: ms(r.loopLagMaxMs),
        scrapes: r.scrapes,
        scrape_failures: r.scrapeFailures,
      })),
    },
  });
}

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
