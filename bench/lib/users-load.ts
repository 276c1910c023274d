/**
 * The load of bench/users.ts, in its own process: autocannon with one request sequence per
 * connection — a visit: list the conversations (GET /api/v1/conversations), read the newest page
 * of one (GET …/{id}/messages?order=desc), send a message there and read the streamed reply
 * (POST …/{id}/messages, stream: true) — each visit by the next of the seeded users, one request
 * per second per connection (autocannon's connectionRate: the think time between a person's
 * steps), connections started 1000/N ms apart so their seconds do not coincide.
 *
 *   npx tsx bench/lib/users-load.ts --url http://127.0.0.1:3374 --users /tmp/users.json \
 *     --connections 9 --duration 600 [--warmup 15]
 *
 * Time to first text: from writing the POST to the first body chunk holding a text-delta event
 * (autocannon's per-client `request` and `body` events); the reads' latency is autocannon's
 * whole-response time. Prints one UsersLoadResult JSON line on stdout.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { percentile } from "./metrics";
import { flag } from "./setup";

export type UsersFile = { users: Array<{ key: string; conversationId: string }> };
export type Step = "list" | "history" | "message";
const STEPS: Step[] = ["list", "history", "message"];

type Stats = { p50: number; p90: number; p99: number; max: number; count: number };
export type UsersLoadResult = {
  connections: number;
  measured_s: number;
  visits: number;
  distinct_users: number;
  turns_per_minute: number;
  requests_per_second: number;
  latency_ms: Record<Step, Stats>;
  first_text_ms: Stats;
  /** Every failure counted, by kind: HTTP status, a stream without text or without its end, a time-out, a socket error. */
  errors: Record<string, number>;
  error_total: number;
  client_loop_delay_p99_ms: number;
};

type Client = {
  reqsMade: number;
  on(event: "request", listener: () => void): void;
  on(event: "body", listener: (chunk: Buffer) => void): void;
  on(event: "response", listener: (status: number, bytes: number, ms: number) => void): void;
  on(event: "timeout" | "connError", listener: (error?: Error) => void): void;
};
type RawRequest = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
type Context = { user?: number };
type Autocannon = (
  options: Record<string, unknown> & { setupClient: (client: Client) => void; requests: Array<{ setupRequest: (request: RawRequest, context: Context) => RawRequest }> },
  done: (error: Error | null) => void,
) => { on(event: "reqError", listener: (error: Error) => void): void };
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const stats = (values: number[]): Stats => ({
  p50: round(percentile(values, 50)),
  p90: round(percentile(values, 90)),
  p99: round(percentile(values, 99)),
  max: round(values.reduce((a, b) => Math.max(a, b), 0)),
  count: values.length,
});
const round = (value: number) => (Number.isFinite(value) ? Math.round(value * 100) / 100 : value);

export function runUsersLoad(input: { url: string; users: UsersFile["users"]; connections: number; durationS: number; warmupS: number }): Promise<UsersLoadResult> {
  const latencies: Record<Step, number[]> = { list: [], history: [], message: [] };
  const firstText: number[] = [];
  const errors: Record<string, number> = {};
  let nextUser = 0;
  let visits = 0;
  const started = performance.now();
  const measureFrom = started + input.warmupS * 1000 + 1000; // the connections' staggered start comes first
  const counting = (at: number) => at >= measureFrom;
  const fail = (kind: string, at: number) => {
    if (counting(at)) errors[kind] = (errors[kind] ?? 0) + 1;
  };
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const request = (step: Step) => (req: RawRequest, context: Context): RawRequest => {
    if (step === "list") context.user = nextUser++ % input.users.length;
    const user = input.users[context.user!]!;
    const headers = { ...req.headers, authorization: `Bearer ${user.key}` };
    if (step === "list") return { ...req, method: "GET", path: "/api/v1/conversations?limit=20", headers };
    if (step === "history") return { ...req, method: "GET", path: `/api/v1/conversations/${user.conversationId}/messages?limit=20&order=desc`, headers };
    return {
      ...req,
      method: "POST",
      path: `/api/v1/conversations/${user.conversationId}/messages`,
      headers: { ...headers, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ content: `Visit ${context.user}: what should I read next about distributed systems?`, stream: true }),
    };
  };

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: input.url,
        connections: input.connections,
        connectionRate: 1,
        duration: input.durationS + input.warmupS + 1,
        timeout: 30,
        requests: STEPS.map((step) => ({ setupRequest: request(step) })),
        setupClient: (client: Client) => {
          // Spread the connections over the second (see the header).
          const until = performance.now() + 1000 / input.connections;
          while (performance.now() < until) {
            // busy: autocannon builds its clients synchronously
          }
          // One request in flight per connection: the nth request sent is the nth answered.
          const sentAt: number[] = [];
          let answered = 0;
          let text = false;
          let end = false;
          let tail = "";
          client.on("request", () => {
            sentAt.push(performance.now());
            text = false;
            end = false;
            tail = "";
          });
          client.on("body", (chunk) => {
            const piece = tail + chunk.toString("utf8");
            tail = piece.slice(-40);
            if (!text && piece.includes('"type":"text-delta"')) {
              text = true;
              const at = sentAt[answered];
              if (at !== undefined && counting(at)) firstText.push(performance.now() - at);
            }
            if (piece.includes("[DONE]")) end = true;
          });
          client.on("response", (status, _bytes, ms) => {
            const step = STEPS[answered % STEPS.length]!;
            const at = sentAt[answered] ?? performance.now();
            answered++;
            if (!counting(at)) return;
            latencies[step].push(ms);
            if (status < 200 || status > 299) fail(`${step} http ${status}`, at);
            else if (step === "message" && !text) fail("message stream without text", at);
            else if (step === "message" && !end) fail("message stream without [DONE]", at);
            if (step === "message") visits++;
          });
          // A time-out or a socket error abandons the request in flight (counted through reqError below).
          client.on("timeout", () => answered++);
          client.on("connError", () => answered++);
        },
      },
      (error) => {
        loop.disable();
        if (error) return reject(error);
        const measuredS = input.durationS;
        resolve({
          connections: input.connections,
          measured_s: measuredS,
          visits,
          distinct_users: Math.min(nextUser, input.users.length),
          turns_per_minute: round((latencies.message.length / measuredS) * 60),
          requests_per_second: round((latencies.list.length + latencies.history.length + latencies.message.length) / measuredS),
          latency_ms: { list: stats(latencies.list), history: stats(latencies.history), message: stats(latencies.message) },
          first_text_ms: stats(firstText),
          errors,
          error_total: Object.values(errors).reduce((a, b) => a + b, 0),
          client_loop_delay_p99_ms: round(loop.percentile(99) / 1e6),
        });
      },
    );
    instance.on("reqError", (error) => fail(error.message === "request timed out" ? "timeout" : `socket ${error.message}`, performance.now()));
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const url = flag(argv, "--url");
  const usersPath = flag(argv, "--users");
  if (!url || !usersPath) throw new Error("usage: users-load.ts --url URL --users FILE --connections N --duration S [--warmup S]");
  const { users } = JSON.parse(readFileSync(usersPath, "utf8")) as UsersFile;
  const result = await runUsersLoad({
    url,
    users,
    connections: Number(flag(argv, "--connections") ?? 9),
    durationS: Number(flag(argv, "--duration") ?? 600),
    warmupS: Number(flag(argv, "--warmup") ?? 15),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1]?.endsWith("users-load.ts")) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
    process.exit(1);
  });
}
