/**
 * Streaming load generator for the TTFT and concurrent-streams benchmarks (issue 9), run as its own
 * process so its work never shares an event loop with the app or the mock LLM:
 *
 *   npx tsx bench/lib/stream-load.ts <config.json>     (prints one JSON StreamLoadResult on stdout)
 *
 * Each request is a POST whose reply is server-sent events. `kind: "app"` reads BOT GPT's UI message
 * stream (a text chunk is a `text-delta` event, the end is `finish` then `[DONE]`); `kind: "mock"`
 * reads the provider stream the app itself receives from the mock (Chat Completions `delta.content`
 * or Responses `response.output_text.delta`; the end is `[DONE]` or `response.completed`).
 * Two modes: `closed` (N workers, each K requests back to back) and `ramp` (new streams opened at a
 * steady rate until `target` are open at once, each slot streaming again and again until the hold
 * ends). node:http with an agent that has no socket limit.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

export type StreamTarget = {
  /** Full URL, e.g. http://127.0.0.1:3370/api/v1/conversations/<id>/messages. */
  url: string;
  headers: Record<string, string>;
  body: string;
};

export type StreamLoadConfig = {
  kind: "app" | "mock";
  /** Closed: worker w uses targets w, w + N, w + 2N… (mod length); ramp: slot s uses target s (mod length). */
  targets: StreamTarget[];
  /** A complete stream carries at least this many text chunks (0: no check). */
  expectedChunks: number;
  /** Per request; a stream still open after this counts as dropped. */
  timeoutMs: number;
  mode: { type: "closed"; concurrency: number; requestsPerWorker: number } | { type: "ramp"; target: number; openPerSecond: number; holdMs: number };
};

export type Percentiles = { count: number; p50: number; p90: number; p99: number; max: number; mean: number };

export type StreamLoadResult = {
  kind: "app" | "mock";
  requests: number;
  completed: number;
  dropped: number;
  /** Why streams were dropped, e.g. { "http 503": 2, "short 41/60": 1 }. */
  dropReasons: Record<string, number>;
  ttftMs: Percentiles;
  gapMs: Percentiles;
  /** Text chunks per completed stream. */
  chunks: Percentiles;
  /** Most requests open at once. */
  peakConcurrency: number;
  /** Most streams at once that had their first text chunk and had not ended: replies actually flowing. */
  peakStreaming: number;
  durationMs: number;
  /** The load generator's own event-loop delay: when it is high, the client, not the server, is slow. */
  clientLoopDelayMs: { p99: number; max: number };
};

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

type Outcome = { ok: boolean; reason?: string; ttft?: number; gaps: number[]; chunks: number };

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 2048 });

/** What one SSE `data:` payload means for the count: a text chunk, the end, or neither. */
function classify(kind: "app" | "mock", data: string, eventName: string | null): "text" | "end" | null {
  if (data === "[DONE]") return "end";
  if (kind === "app") {
    // Cheap checks first: thousands of events a second go through here.
    if (data.includes('"type":"text-delta"')) return "text";
    return null;
  }
  if (eventName === "response.output_text.delta" || data.includes('"type":"response.output_text.delta"')) return "text";
  if (eventName === "response.completed" || data.includes('"type":"response.completed"')) return "end";
  if (data.includes('"content":"') && !data.includes('"content":""')) return "text";
  return null;
}

const flowing = { now: 0, peak: 0 };

function oneStream(config: StreamLoadConfig, target: StreamTarget): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const gaps: number[] = [];
    let ttft: number | undefined;
    let last = 0;
    let chunks = 0;
    let ended = false;
    let settled = false;
    let buffer = "";
    const finish = (reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ttft !== undefined) flowing.now--;
      if (!reason && !ended) reason = "no finish";
      if (!reason && config.expectedChunks > 0 && chunks < config.expectedChunks) reason = `short`;
      resolve({ ok: !reason, reason, ttft, gaps, chunks });
    };
    const url = new URL(target.url);
    const req = http.request(
      { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: "POST", agent, headers: { "content-type": "application/json", accept: "text/event-stream", ...target.headers } },
      (res) => {
        if (res.statusCode !== 200 && res.statusCode !== 201) {
          res.resume();
          finish(`http ${res.statusCode}`);
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          buffer += text;
          let index: number;
          while ((index = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, index);
            buffer = buffer.slice(index + 2);
            if (block.startsWith(":")) continue; // heartbeat
            let data = "";
            let eventName: string | null = null;
            for (const line of block.split("\n")) {
              if (line.startsWith("data: ")) data += line.slice(6);
              else if (line.startsWith("event: ")) eventName = line.slice(7);
            }
            const what = classify(config.kind, data, eventName);
            if (what === "end") ended = true;
            else if (what === "text") {
              const now = performance.now();
              if (ttft === undefined) {
                ttft = now - started;
                flowing.peak = Math.max(flowing.peak, ++flowing.now);
              } else gaps.push(now - last);
              last = now;
              chunks++;
            }
          }
        });
        res.on("end", () => finish());
        res.on("error", (error) => finish(`reset ${error.message}`));
        res.on("aborted", () => finish("aborted"));
      },
    );
    const timer = setTimeout(() => {
      finish("timeout");
      req.destroy();
    }, config.timeoutMs);
    req.on("error", (error) => finish(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    req.end(target.body);
  });
}

export async function runLoad(config: StreamLoadConfig): Promise<StreamLoadResult> {
  const ttfts: number[] = [];
  const gaps: number[] = [];
  const chunkCounts: number[] = [];
  const dropReasons: Record<string, number> = {};
  let requests = 0;
  let completed = 0;
  let open = 0;
  let peak = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();

  const record = (outcome: Outcome) => {
    if (outcome.ttft !== undefined) ttfts.push(outcome.ttft);
    for (const g of outcome.gaps) gaps.push(g);
    if (outcome.ok) {
      completed++;
      chunkCounts.push(outcome.chunks);
    } else {
      const reason = outcome.reason === "short" ? `short ${outcome.chunks}/${config.expectedChunks}` : (outcome.reason ?? "?");
      dropReasons[reason] = (dropReasons[reason] ?? 0) + 1;
    }
  };
  const run = async (target: StreamTarget) => {
    requests++;
    open++;
    peak = Math.max(peak, open);
    const outcome = await oneStream(config, target);
    open--;
    record(outcome);
  };
  const targetFor = (i: number) => config.targets[i % config.targets.length]!;

  const mode = config.mode;
  if (mode.type === "closed") {
    await Promise.all(
      Array.from({ length: mode.concurrency }, async (_, w) => {
        // Worker w takes targets w, w + N, w + 2N…: with more targets than workers a worker moves on
        // to another conversation, and no two workers ever share one.
        for (let k = 0; k < mode.requestsPerWorker; k++) await run(targetFor(w + k * mode.concurrency));
      }),
    );
  } else {
    const interval = 1000 / mode.openPerSecond;
    const rampEnd = started + mode.target * interval;
    const holdEnd = rampEnd + mode.holdMs;
    const slots: Array<Promise<void>> = [];
    for (let s = 0; s < mode.target; s++) {
      const due = started + s * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      slots.push(
        (async () => {
          do await run(targetFor(s));
          while (performance.now() < holdEnd);
        })(),
      );
    }
    await Promise.all(slots);
  }
  loop.disable();
  return {
    kind: config.kind,
    requests,
    completed,
    dropped: requests - completed,
    dropReasons,
    ttftMs: percentiles(ttfts),
    gapMs: percentiles(gaps),
    chunks: percentiles(chunkCounts),
    peakConcurrency: peak,
    peakStreaming: flowing.peak,
    durationMs: performance.now() - started,
    clientLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error("usage: stream-load.ts <config.json>");
  const config = JSON.parse(readFileSync(file, "utf8")) as StreamLoadConfig;
  const result = await runLoad(config);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  agent.destroy();
}

if (process.argv[1]?.endsWith("stream-load.ts")) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
    process.exit(1);
  });
}
