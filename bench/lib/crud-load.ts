/**
 * The load generator of the CRUD benchmark (bench/crud.ts), run as its own process so the client's
 * work never shares an event loop with the server or the bench script. It drives autocannon
 * programmatically at a fixed overall rate against one route kind and prints one JSON object
 * (LoadResult) on stdout.
 *
 *   npx tsx bench/lib/crud-load.ts --url http://127.0.0.1:3380 --kind list|detail|page|mock \
 *     --targets /tmp/targets.json --rate 500 --duration 20 [--warmup 2] [--connections 10]
 *
 * `--rate 0` is a closed loop instead: `--connections` clients each sending their next request as
 * soon as the last is answered, as fast as the server goes (its capacity).
 *
 * `--targets` is a JSON file of TargetsFile: API keys, each with conversations of its own user.
 * Every request picks a random key and one of that key's conversations (autocannon's
 * setupRequest). `mock` sends `GET /v1/models` with a bearer token: the calibration run against
 * the mock LLM, with the same client, rate and connections.
 *
 * Pacing: autocannon refills each connection's quota on a 1-second interval started when the
 * connection is made. With one request per second per connection and the connections made
 * 1000/rate ms apart (setupClient), requests arrive evenly spread at the target rate (an open
 * loop) instead of all connections firing together at the top of every second. Latencies are
 * taken per response (sub-millisecond) for requests started after the warm-up window, which
 * also drops the first burst while connections open.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { percentile } from "./metrics";
import { flag } from "./setup";

export type LoadKind = "list" | "detail" | "page" | "mock";

export type TargetsFile = {
  keys: Array<{
    key: string;
    conversations: Array<{ id: string; lastSeq: number; ascCursor: string; descCursor: string }>;
  }>;
};

export type LoadResult = {
  kind: LoadKind;
  target_rps: number;
  connections: number;
  measured_s: number;
  requests: number;
  achieved_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  status: Record<string, number>;
  non_2xx: number;
  errors: number;
  timeouts: number;
  /** autocannon's own totals over the whole run (warm-up included). */
  autocannon: { requests: number; non2xx: number; errors: number; timeouts: number; duration_s: number };
};

type RawRequest = { method: string; path: string; headers: Record<string, string> };
type Instance = {
  on(event: "response", listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: "reqError", listener: (error: Error) => void): void;
};
type Summary = { totalRequests: number; non2xx: number; errors: number; timeouts: number; duration: number };
type Autocannon = (
  options: {
    url: string;
    connections: number;
    overallRate?: number;
    duration: number;
    timeout: number;
    setupClient: () => void;
    requests: Array<{ method: string; setupRequest: (request: RawRequest) => RawRequest }>;
  },
  done: (error: Error | null, summary: Summary) => void,
) => Instance;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** The path of one request of `kind`, for a random key and conversation. */
function nextRequest(kind: LoadKind, targets: TargetsFile, mockToken: string): { path: string; authorization: string } {
  if (kind === "mock") return { path: "/v1/models", authorization: `Bearer ${mockToken}` };
  const { key, conversations } = pick(targets.keys);
  const authorization = `Bearer ${key}`;
  if (kind === "list") return { path: "/api/v1/conversations?limit=20", authorization };
  const conversation = pick(conversations);
  if (kind === "detail") return { path: `/api/v1/conversations/${conversation.id}`, authorization };
  // Pages: forward from the middle (40 %), back from the middle (40 %), the newest page (20 %).
  const base = `/api/v1/conversations/${conversation.id}/messages?limit=20`;
  const roll = Math.random();
  if (roll < 0.4) return { path: `${base}&cursor=${conversation.ascCursor}`, authorization };
  if (roll < 0.8) return { path: `${base}&order=desc&cursor=${conversation.descCursor}`, authorization };
  return { path: `${base}&order=desc`, authorization };
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spacing the connections' rate intervals (see the header)
  }
}

export function runLoad(input: {
  url: string;
  kind: LoadKind;
  targets: TargetsFile;
  rate: number;
  durationS: number;
  warmupS: number;
  connections: number;
}): Promise<LoadResult> {
  const paced = input.rate > 0;
  const connections = paced ? input.rate : input.connections; // paced: one request per second each, see the header
  const spacingMs = paced ? 1000 / connections : 0;
  const mockToken = "sk-calibration";
  const latencies: number[] = [];
  const status: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let measureFrom = Infinity;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: input.url,
        connections,
        ...(paced ? { overallRate: input.rate } : {}),
        duration: input.durationS + input.warmupS,
        timeout: 10,
        setupClient: () => (spacingMs > 0 ? busyWait(spacingMs) : undefined),
        requests: [
          {
            method: "GET",
            setupRequest: (request) => {
              const next = nextRequest(input.kind, input.targets, mockToken);
              return { ...request, path: next.path, headers: { ...request.headers, authorization: next.authorization } };
            },
          },
        ],
      },
      (error, summary) => {
        if (error) return reject(error);
        const measuredS = input.durationS;
        resolve({
          kind: input.kind,
          target_rps: input.rate,
          connections,
          measured_s: measuredS,
          requests: latencies.length,
          achieved_rps: Math.round((latencies.length / measuredS) * 10) / 10,
          p50_ms: round(percentile(latencies, 50)),
          p90_ms: round(percentile(latencies, 90)),
          p99_ms: round(percentile(latencies, 99)),
          max_ms: round(latencies.length ? latencies.reduce((a, b) => Math.max(a, b), 0) : NaN),
          mean_ms: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
          status,
          non_2xx: Object.entries(status).reduce((n, [code, count]) => (code.startsWith("2") ? n : n + count), 0),
          errors,
          timeouts,
          autocannon: {
            requests: summary.totalRequests,
            non2xx: summary.non2xx,
            errors: summary.errors,
            timeouts: summary.timeouts,
            duration_s: summary.duration,
          },
        });
      },
    );
    // Connections are all made (setupClient ran for each) by the time autocannon returns.
    measureFrom = performance.now() + input.warmupS * 1000;
    const measuring = () => performance.now() >= measureFrom;
    instance.on("response", (_client, code, _bytes, ms) => {
      // A request counts when it started inside the measured window.
      if (performance.now() - ms < measureFrom) return;
      latencies.push(ms);
      status[code] = (status[code] ?? 0) + 1;
    });
    // autocannon reports a timeout as a request error with this message.
    instance.on("reqError", (error) => {
      if (!measuring()) return;
      if (error.message === "request timed out") timeouts++;
      else errors++;
    });
  });
}

const round = (value: number) => (Number.isFinite(value) ? Math.round(value * 100) / 100 : value);

async function main() {
  const argv = process.argv.slice(2);
  const url = flag(argv, "--url");
  const kind = flag(argv, "--kind") as LoadKind | undefined;
  const targetsPath = flag(argv, "--targets");
  if (!url || !kind || !["list", "detail", "page", "mock"].includes(kind)) {
    throw new Error("usage: crud-load.ts --url URL --kind list|detail|page|mock --targets FILE [--rate 500] [--duration 20] [--warmup 2]");
  }
  const targets: TargetsFile = targetsPath ? JSON.parse(readFileSync(targetsPath, "utf8")) : { keys: [] };
  if (kind !== "mock" && targets.keys.length === 0) throw new Error("--targets has no keys");
  const result = await runLoad({
    url,
    kind,
    targets,
    rate: Number(flag(argv, "--rate") ?? 500),
    durationS: Number(flag(argv, "--duration") ?? 20),
    warmupS: Number(flag(argv, "--warmup") ?? 2),
    connections: Number(flag(argv, "--connections") ?? 10),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
