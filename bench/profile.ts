/**
 * Issue 18: where a chat turn's CPU goes, by package. One `next start` on Postgres under Node's
 * CPU profiler (`--cpu-prof`), the mock LLM as in bench/turn-cost.ts; after a warm-up, N
 * new-conversation turns one at a time. The profile is written when the app exits; only the
 * samples taken between the first and the last turn count (the profile's clock is the machine's
 * monotonic clock, which this script reads too), each function is traced to its source file
 * through the build's source maps and its self time added to its package (bench/lib/cpu-profile.ts).
 *
 *   npx tsx bench/profile.ts [--quick] [--turns 200] [--concurrency 1]
 *
 * Ports 3373 (app) and 4034 (mock), scratch database bot_gpt_bench_profile (shifted by
 * BENCH_PORT_OFFSET). Prints one ScenarioOutput on stdout.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { aggregateProfile, mergeBreakdowns, perTurnRows, type CpuProfile } from "./lib/cpu-profile";
import { cpuBetween, treeCpu } from "./lib/proc";
import { emit, round, type Figure } from "./lib/report";
import { benchPort, flag, log, recreateDatabase, scratchUrl } from "./lib/setup";
import { sourceLocator } from "./lib/source-maps";
import { MockProcess, appOnMockEnv, runLoadProcess, seedApiKey } from "./lib/stream-bench";
import type { StreamTarget } from "./lib/stream-load";

const ROOT = path.resolve(import.meta.dirname, "..");
const REPLY = "Paris is the capital city of France.";
const SECRET = "bench-profile-secret-bench-profile-secret";
const INTERVAL_US = 1000;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const turns = Number(flag(argv, "--turns") ?? (quick ? 20 : 200));
  const concurrency = Number(flag(argv, "--concurrency") ?? 1);
  const pgUrl = scratchUrl("bot_gpt_bench_profile");
  const profileDir = mkdtempSync(path.join(os.tmpdir(), "bench-cpu-prof-"));

  ensureBuild(log);
  const mock = new MockProcess(benchPort(4034));
  await mock.start();
  const window = { fromUs: 0, toUs: 0 };
  let procCpuMs = 0;
  let completed = 0;
  try {
    await mock.control("settings", { ttftMs: 0, chunkDelayMs: 10, reply: REPLY, record: false });
    await recreateDatabase(pgUrl);
    const key = await seedApiKey({ DATABASE_URL: pgUrl, AUTH_SECRET: SECRET, REDIS_URL: "" });
    const app = new AppProcess(benchPort(3373), { ...appOnMockEnv(mock.url, SECRET), DATABASE_URL: pgUrl, INSTANCE_ID: "bench-profile" }, {
      // One process: `npm start`'s cluster workers would not take the profiler's node flags.
      nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-interval=${INTERVAL_US}`],
    });
    log(`starting the app under --cpu-prof on ${app.url}; profiles in ${profileDir}`);
    await app.start(120_000);
    try {
      const targets: StreamTarget[] = Array.from({ length: 50 }, (_, i) => ({
        url: `${app.url}/api/v1/conversations`,
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ first_message: `Profile question ${i}: what is the capital of France?`, stream: true }),
      }));
      const warm = await runLoadProcess({ kind: "app", targets, expectedChunks: 0, timeoutMs: 60_000, mode: { type: "closed", concurrency: 5, requestsPerWorker: 10 } });
      if (warm.completed === 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.dropReasons)}\n${app.tail()}`);
      const cpu0 = treeCpu(app.pid!);
      window.fromUs = nowUs();
      const result = await runLoadProcess({
        kind: "app",
        targets,
        expectedChunks: 0,
        timeoutMs: 60_000,
        mode: { type: "closed", concurrency, requestsPerWorker: Math.ceil(turns / concurrency) },
      });
      window.toUs = nowUs();
      procCpuMs = cpuBetween(cpu0, treeCpu(app.pid!));
      completed = result.completed;
      log(`${result.completed}/${result.requests} turns profiled; app CPU ${round(procCpuMs / Math.max(1, result.completed), 2)} ms per turn (/proc, profiler on)`);
    } finally {
      await app.stop(); // the profiler writes its file as the process exits
    }
  } finally {
    await mock.stop();
  }

  const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${profileDir}: did the app exit cleanly?`);
  const locate = sourceLocator(ROOT);
  const perFile = files.map((file) => {
    const profile = JSON.parse(readFileSync(path.join(profileDir, file), "utf8")) as CpuProfile;
    return { file, breakdown: aggregateProfile(profile, window, locate) };
  });
  rmSync(profileDir, { recursive: true, force: true });
  const merged = mergeBreakdowns(perFile.map((p) => p.breakdown));
  const rows = perTurnRows(merged, completed);
  const countedMs = rows.filter((r) => r.share !== null).reduce((sum, r) => sum + r.msPerTurn, 0);
  const topFunctions = [...merged.functionsUs].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([fn, us]) => ({ function: fn, ms_per_turn: round(us / 1000 / completed, 3) }));
  const share = (category: string) => rows.find((r) => r.category === category)?.msPerTurn ?? 0;
  const figures: Figure[] = [
    { name: "profiled CPU per turn (all packages, idle and GC excluded)", value: round(countedMs, 2), unit: "ms", calibration: round(procCpuMs / Math.max(1, completed), 2), note: "calibration: /proc CPU per turn of the profiled process tree (all threads)" },
    { name: "pg + drizzle-orm per turn", value: round(share("pg") + share("drizzle-orm"), 2), unit: "ms", goal: "peer 3.6 ms (issue 18)" },
    { name: "next per turn", value: round(share("next"), 2), unit: "ms" },
    { name: "ai / @ai-sdk per turn", value: round(share("ai / @ai-sdk"), 2), unit: "ms" },
    { name: "our lib/ per turn", value: round(rows.filter((r) => r.category.startsWith("lib")).reduce((s, r) => s + r.msPerTurn, 0), 2), unit: "ms" },
    { name: "garbage collection per turn", value: round(rows.find((r) => r.category.startsWith("garbage"))?.msPerTurn ?? 0, 2), unit: "ms" },
  ];

  emit({
    benchmark: "profile",
    method:
      `One \`next start\` process on Postgres under \`node --cpu-prof --cpu-prof-interval=${INTERVAL_US}\` (one process; its worker threads write profiles too), the mock LLM as in turn-cost (first text at once, 10 ms per word, 7 words). ` +
      `After 50 warm-up turns, ${turns} new-conversation turns (POST /api/v1/conversations with a streamed first message), ${concurrency} at a time. Only samples between the first turn's start and the last turn's end count. ` +
      `Each sample's function is traced to its original source through the source maps \`next build\` writes beside the server chunks (Node's SourceMap), and its self time (the time to the next sample) added to a package: the innermost node_modules package (grouped: pg with its helper packages, ai with @ai-sdk/*, next with the React it vendors…), our code by lib/ folder, route code, Node's own modules by area (web streams, async context, http/net, fetch…) and its native functions (socket writes — writev and friends, where the syscall's time lands —, the microtask queue, the rest: JSON, Buffer, crypto). ` +
      `Idle time and garbage collection are listed but not in the shares; "V8 / native (unattributed)" is time V8 could not place in a JavaScript function. ` +
      `The profiler's own overhead inflates every package a little, so the /proc CPU per turn of the same window is shown beside the total (it also counts the other threads: the compiler, GC helpers, libuv's pool).`,
    quick,
    runs: 1,
    goals: [],
    figures,
    tables: [
      {
        title: `CPU self time per turn by package (${completed} turns, ${concurrency} at a time)`,
        columns: ["package", "ms per turn", "share of counted time"],
        rows: rows.map((r) => [r.category, round(r.msPerTurn, 3), r.share === null ? "excluded" : `${round(r.share * 100, 1)} %`]),
        note: `Counted: ${round(countedMs, 2)} ms per turn in the profile; /proc says ${round(procCpuMs / Math.max(1, completed), 2)} ms per turn for the whole process tree in the same window (profiler on). ${merged.samples} samples, ${perFile.length} profile file(s).`,
      },
    ],
    details: {
      turns: completed,
      concurrency,
      interval_us: INTERVAL_US,
      proc_cpu_ms_per_turn: round(procCpuMs / Math.max(1, completed), 3),
      self_us_by_package: Object.fromEntries([...merged.selfUs].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)])),
      per_file: perFile.map((p) => ({ file: p.file, samples: p.breakdown.samples, self_us: Object.fromEntries([...p.breakdown.selfUs].map(([k, v]) => [k, Math.round(v)])) })),
      top_functions: topFunctions,
    },
  });
}

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
