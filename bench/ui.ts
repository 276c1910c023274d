/**
 * UI performance benchmark (issue: first paint ≤ 1 s on the embedded defaults; a sidebar of 10k
 * conversations and a conversation of 1,000 messages open and scroll without long tasks over 50 ms).
 *
 *   npm run bench:ui -- [--quick] [--no-write] [--port 3350] [--reps 3]
 *
 * Seeds a fresh PGlite data directory (one user, 10,000 conversations, one of them 1,000 messages
 * long), starts `next start` on it with no provider keys (the offline model), signs in through the
 * form in Chromium and measures, through the Performance API and Chromium's counters:
 *   1. paint timings of the chat page `/` (new browser context each time: empty HTTP cache; and a
 *      new tab in a warm context);
 *   2. the sidebar: long tasks while `/` loads, then while a script scrolls the list to its oldest
 *      conversation a screenful per frame (loading pages as it goes);
 *   3. the long conversation: long tasks while `/c/<id>` loads, then while a script scrolls up to
 *      its first message.
 * Writes bench/results/<date>-ui.json. `--quick`: 500 conversations, 120 messages, 2 repetitions.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page, type Response } from "@playwright/test";
import { AuthPage } from "../e2e/pages/auth-page";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { benchPort, flag, log } from "./lib/setup";
import { seedUiData, type UiSeed } from "./lib/ui-seed";
import {
  cdpDelta, cdpMetrics, frameStats, probeScript, readPaintTimings, readProbe, scrollSidebar, scrollThreadToTop, spread,
  summarizeLongTasks, worstFrames, type PaintTimings,
} from "./lib/ui-probes";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const config = {
  conversations: quick ? 500 : 10_000,
  longMessages: quick ? 120 : 1_000,
  paintRuns: quick ? 3 : 10,
  reps: Number(flag(argv, "--reps") ?? (quick ? 2 : 3)),
  scrollLimitMs: quick ? 30_000 : 120_000,
  viewport: { width: 1440, height: 900 },
};
const port = Number(flag(argv, "--port") ?? benchPort(3350));
const dataDir = mkdtempSync(path.join(os.tmpdir(), "bot-gpt-bench-ui-"));
const appEnv = {
  DATABASE_URL: "",
  DATA_DIR: dataDir,
  REDIS_URL: "",
  OPENAI_API_KEY: "",
  GROQ_API_KEY: "",
  CHAT_MODEL: "",
  EMBEDDING_MODEL: "",
  OFFLINE_TOKEN_DELAY_MS: "2",
  // Nothing listens here: no local Ollama leaks into the model list.
  OLLAMA_BASE_URL: "http://127.0.0.1:9/v1",
};
const app = new AppProcess(port, appEnv);
let browser: Browser | null = null;

async function main() {
  const machine = {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_average_start: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
  log(`machine: ${machine.cpus} CPUs, load average ${machine.load_average_start.join(" ")}`);
  ensureBuild(log);

  Object.assign(process.env, appEnv, { INSTANCE_ID: "bench-ui-seed" });
  log(`seeding ${config.conversations.toLocaleString("en")} conversations and a ${config.longMessages}-message thread in ${dataDir}…`);
  const seed = await seedUiData(config);
  log(`seeded in ${(seed.seedMs / 1000).toFixed(1)} s; starting the app on :${port}`);
  const startedAt = performance.now();
  await app.start(120_000);
  const appStartMs = Math.round(performance.now() - startedAt);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-precise-memory-info"],
  });
  const browserVersion = `Chromium ${browser.version()} headless`;
  const newContext = async (storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>) => {
    const context = await browser!.newContext({ baseURL: app.url, viewport: config.viewport, storageState });
    await context.addInitScript({ content: probeScript() });
    return context;
  };
  const warm = await newContext();
  const signIn = await warm.newPage();
  await new AuthPage(signIn).signIn(seed.email, seed.password);
  await signIn.waitForURL((url) => url.pathname === "/", { timeout: 60_000 });
  await signIn.close();

  const paint = await measurePaint(newContext, warm);
  const sidebar = await measureSidebar(warm, seed);
  const thread = await measureThread(warm, seed);
  await browser.close();
  browser = null;
  await app.stop();

  const goals = {
    fcp_le_1000ms_cold: paint.cold.fcp.median <= 1000,
    sidebar_no_long_task_over_50ms: sidebar.every((r) => r.load.long_tasks.over_50ms === 0 && r.scroll.long_tasks.over_50ms === 0),
    thread_no_long_task_over_50ms: thread.every((r) => r.load.long_tasks.over_50ms === 0 && r.scroll.long_tasks.over_50ms === 0),
  };
  const report = {
    scenario: "ui",
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { ...machine, load_average_end: os.loadavg().map((v) => Math.round(v * 100) / 100) },
    config: { ...config, quick, browser: browserVersion, database: "pglite (embedded defaults)", model: "offline" },
    seed: { conversations: seed.conversations, long_conversation_messages: seed.longMessages, seed_ms: seed.seedMs, app_start_ms: appStartMs },
    goals,
    paint,
    sidebar: { runs: sidebar, summary: summarizeRuns(sidebar) },
    thread: { runs: thread, summary: summarizeRuns(thread) },
  };
  printSummary(report);
  if (!argv.includes("--no-write")) {
    const dir = path.resolve(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${report.date.slice(0, 10)}-ui${quick ? "-quick" : ""}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

type NewContext = (storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>) => Promise<BrowserContext>;

/** Paint timings of `/`: after a warm-up, N loads in fresh contexts (cold cache) and N new tabs in a warm one. */
async function measurePaint(newContext: NewContext, warm: BrowserContext) {
  const state = await warm.storageState();
  const once = async (context: BrowserContext): Promise<PaintTimings> => {
    const page = await context.newPage();
    await page.goto("/", { waitUntil: "load" });
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    // LCP is final once the page stops painting; give it a moment.
    await page.waitForTimeout(300);
    const timings = await readPaintTimings(page);
    await page.close();
    return timings;
  };
  await once(warm);
  const cold: PaintTimings[] = [];
  const warmRuns: PaintTimings[] = [];
  for (let i = 0; i < config.paintRuns; i++) {
    const context = await newContext(state);
    cold.push(await once(context));
    await context.close();
    warmRuns.push(await once(warm));
  }
  log(`paint: cold FCP ${cold.map((t) => Math.round(t.fcp)).join(", ")} ms`);
  const summarize = (runs: PaintTimings[]) => ({
    ttfb: spread(runs.map((t) => t.ttfb)),
    fp: spread(runs.map((t) => t.fp)),
    fcp: spread(runs.map((t) => t.fcp)),
    lcp: spread(runs.map((t) => t.lcp)),
    dom_content_loaded: spread(runs.map((t) => t.domContentLoaded)),
    load: spread(runs.map((t) => t.load)),
  });
  return { cold: summarize(cold), warm_tab: summarize(warmRuns), runs: config.paintRuns };
}

/** One run: load `path`, wait until it settles, then scroll with `scroll`; long tasks split at the scroll's start. */
async function measureRun(
  context: BrowserContext,
  route: string,
  ready: (page: Page) => Promise<void>,
  scroll: (page: Page) => ReturnType<typeof scrollSidebar>,
) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const t0 = await cdpMetrics(cdp);
  await page.goto(route, { waitUntil: "load" });
  await ready(page);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(500);
  const loaded = await readProbe(page);
  const t1 = await cdpMetrics(cdp);
  const run = await scroll(page);
  // Let the last page's render finish before reading what it cost.
  await page.waitForTimeout(500);
  const scrolled = await readProbe(page);
  const t2 = await cdpMetrics(cdp);
  await page.close();
  return {
    load: {
      long_tasks: summarizeLongTasks(loaded.longTasks, 0, loaded.now),
      main_thread: cdpDelta(t0, t1),
      heap_mb: loaded.heapMb,
      dom_nodes: loaded.domNodes,
      worst_frames: worstFrames(loaded.frames, 0, loaded.now),
    },
    scroll: {
      reason: run.reason,
      duration_ms: Math.round(run.end - run.start),
      seen: run.seen,
      in_dom_at_end: run.inDom,
      load_more_clicks: run.clicks,
      long_tasks: summarizeLongTasks(scrolled.longTasks, run.start, scrolled.now),
      frames: frameStats(run.frameIntervals),
      main_thread: cdpDelta(t1, t2),
      heap_mb: scrolled.heapMb,
      dom_nodes: scrolled.domNodes,
      worst_frames: worstFrames(scrolled.frames, run.start, scrolled.now),
    },
  };
}

type Run = Awaited<ReturnType<typeof measureRun>>;

async function measureSidebar(context: BrowserContext, seed: UiSeed): Promise<Array<Run & { fetched_rows: number }>> {
  const ready = (page: Page) => page.getByRole("navigation", { name: "Conversations" }).locator('a[href^="/c/"]').first().waitFor({ timeout: 60_000 });
  // Conversations the list fetched, whatever it shows: a virtualized list has only some in the DOM.
  let fetched = 0;
  const countRows = (response: Response) => {
    if (response.request().method() !== "GET" || new URL(response.url()).pathname !== "/api/v1/conversations") return;
    response.json().then(
      (body: { data?: unknown[] }) => (fetched += body.data?.length ?? 0),
      () => {},
    );
  };
  context.on("response", countRows);
  const runs: Array<Run & { fetched_rows: number }> = [];
  for (let i = 0; i <= config.reps; i++) {
    fetched = 0;
    const run = await measureRun(context, "/", ready, (page) =>
      scrollSidebar(page, { target: seed.conversations, oldestTitle: seed.oldestTitle, limitMs: config.scrollLimitMs }),
    );
    log(`sidebar ${i === 0 ? "warm-up" : `run ${i}`}: ${run.scroll.seen} conversations seen (${fetched} fetched) in ${run.scroll.duration_ms} ms (${run.scroll.reason}); long tasks > 50 ms: load ${run.load.long_tasks.over_50ms}, scroll ${run.scroll.long_tasks.over_50ms} (max ${run.scroll.long_tasks.max_ms} ms)`);
    if (i > 0) runs.push({ ...run, fetched_rows: fetched });
  }
  context.off("response", countRows);
  return runs;
}

async function measureThread(context: BrowserContext, seed: UiSeed): Promise<Run[]> {
  const ready = (page: Page) => page.getByTestId("message-scroller").locator('[data-testid="message"]').first().waitFor({ timeout: 60_000 });
  const runs: Run[] = [];
  for (let i = 0; i <= config.reps; i++) {
    const run = await measureRun(context, `/c/${seed.longConversationId}`, ready, (page) =>
      scrollThreadToTop(page, { marker: seed.firstMessageMarker, limitMs: config.scrollLimitMs }),
    );
    log(`thread ${i === 0 ? "warm-up" : `run ${i}`}: ${run.scroll.reason} in ${run.scroll.duration_ms} ms, ${run.scroll.in_dom_at_end} messages in the DOM; long tasks > 50 ms: load ${run.load.long_tasks.over_50ms} (max ${run.load.long_tasks.max_ms} ms), scroll ${run.scroll.long_tasks.over_50ms} (max ${run.scroll.long_tasks.max_ms} ms)`);
    if (i > 0) runs.push(run);
  }
  return runs;
}

function summarizeRuns(runs: Run[]) {
  return {
    load_long_tasks_over_50ms: spread(runs.map((r) => r.load.long_tasks.over_50ms)),
    load_longest_task_ms: spread(runs.map((r) => r.load.long_tasks.max_ms)),
    scroll_duration_ms: spread(runs.map((r) => r.scroll.duration_ms)),
    scroll_long_tasks_over_50ms: spread(runs.map((r) => r.scroll.long_tasks.over_50ms)),
    scroll_longest_task_ms: spread(runs.map((r) => r.scroll.long_tasks.max_ms)),
    scroll_frame_p95_ms: spread(runs.map((r) => r.scroll.frames.p95_ms)),
    reached_end: runs.filter((r) => r.scroll.reason.startsWith("reached")).length,
  };
}

function printSummary(report: {
  paint: Awaited<ReturnType<typeof measurePaint>>;
  sidebar: { runs: Run[] };
  thread: { runs: Run[] };
  goals: Record<string, boolean>;
}) {
  const { paint } = report;
  const row = (name: string, s: { median: number; p95: number; max: number }) => `  ${name.padEnd(34)} ${String(s.median).padStart(7)} ${String(s.p95).padStart(7)} ${String(s.max).padStart(7)}`;
  const lines = ["", `  ${"chat page / (ms)".padEnd(34)} ${"median".padStart(7)} ${"p95".padStart(7)} ${"max".padStart(7)}`];
  for (const [label, runs] of [["cold", paint.cold], ["warm tab", paint.warm_tab]] as const) {
    lines.push(row(`${label}: TTFB`, runs.ttfb), row(`${label}: first contentful paint`, runs.fcp), row(`${label}: largest contentful paint`, runs.lcp), row(`${label}: DOMContentLoaded`, runs.dom_content_loaded));
  }
  for (const [label, runs] of [["sidebar", report.sidebar.runs], ["thread", report.thread.runs]] as const) {
    lines.push("", `  ${label} (${runs.length} runs)`);
    runs.forEach((r, i) => {
      lines.push(
        `    run ${i + 1}: load: ${r.load.long_tasks.count} long tasks, ${r.load.long_tasks.over_50ms} > 50 ms, max ${r.load.long_tasks.max_ms} ms; ` +
          `scroll ${r.scroll.duration_ms} ms (${r.scroll.reason}, ${r.scroll.seen} seen, ${r.scroll.in_dom_at_end} in DOM): ` +
          `${r.scroll.long_tasks.over_50ms} long tasks > 50 ms, max ${r.scroll.long_tasks.max_ms} ms, frame p95 ${r.scroll.frames.p95_ms} ms, heap ${r.scroll.heap_mb} MB`,
      );
    });
  }
  lines.push("", ...Object.entries(report.goals).map(([goal, met]) => `  ${met ? "met   " : "MISSED"} ${goal}`), "");
  console.log(lines.join("\n"));
}

function gitCommit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return "unknown";
  }
}

async function cleanUp() {
  await browser?.close().catch(() => {});
  await app.stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    console.error(app.tail());
    process.exitCode = 1;
  })
  .finally(cleanUp);
