/**
 * Chaos check (issue 6): thousands of chat turns against a real `next start` on Postgres, the mock
 * LLM injecting random faults (429 + Retry-After, 500, 503, resets and stalls mid-stream, slow
 * first bytes, hangs), readers that disconnect mid-reply, and `kill -9` restarts of the server.
 * Then the database is checked: every user message the server acknowledged is there, and no reply
 * is left `streaming`.
 *
 *   npx tsx bench/chaos.ts [--turns 10000] [--concurrency 16] [--kills 2] [--url postgres://…/bot_gpt_bench_chaos]
 *
 * Writes bench/results/<date>-chaos.json. Not a timed test: it reports what happened.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { MockLlmServer, type Fault } from "../test/mock-llm/server";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { readSseEvents as readEvents } from "../test/support/sse";
import { benchPort, flag, log, recreateDatabase, scratchUrl } from "./lib/setup";

const FAULTS: Array<() => Fault> = [
  () => ({ type: "status", status: 429, retryAfterSeconds: 1 }),
  () => ({ type: "status", status: 500 }),
  () => ({ type: "status", status: 503 }),
  () => ({ type: "reset", afterChunks: 2 + Math.floor(Math.random() * 10) }),
  () => ({ type: "stall", afterChunks: 2 + Math.floor(Math.random() * 8) }),
  () => ({ type: "slow-first-byte", delayMs: 2_500 }),
  () => ({ type: "hang" }),
];

type Outcome = "acknowledged" | "refused" | "unreachable";

async function main() {
  const argv = process.argv.slice(2);
  const turns = Number(flag(argv, "--turns") ?? 10_000);
  const concurrency = Number(flag(argv, "--concurrency") ?? 16);
  const kills = Number(flag(argv, "--kills") ?? 2);
  const faultRate = Number(flag(argv, "--fault-rate") ?? 0.15);
  const url = flag(argv, "--url") ?? scratchUrl("bot_gpt_bench_chaos");
  const port = Number(flag(argv, "--port") ?? benchPort(3320));

  ensureBuild(log);
  await recreateDatabase(url);
  const mock = new MockLlmServer();
  const mockUrl = await mock.listen();
  mock.settings.chunkDelayMs = 3;
  const secret = "chaos-secret-chaos-secret-chaos-secret";
  const app = new AppProcess(port, {
    DATABASE_URL: url,
    REDIS_URL: "",
    AUTH_SECRET: secret,
    OPENAI_API_KEY: "sk-chaos",
    OPENAI_BASE_URL: `${mockUrl}/v1`,
    GROQ_API_KEY: "",
    CHAT_MODEL: "openai:gpt-4o-mini",
    INSTANCE_ID: "chaos-1",
    RATE_LIMIT_PER_MINUTE: "10000000",
    RATE_LIMIT_CHAT_PER_MINUTE: "10000000",
    MODEL_TTFT_TIMEOUT_MS: "1500",
    MODEL_IDLE_TIMEOUT_MS: "1500",
    OFFLINE_TOKEN_DELAY_MS: "0",
    RESPONSE_CACHE: "off",
  });
  log(`starting the app on :${port} (Postgres ${new URL(url).pathname.slice(1)}), mock LLM at ${mockUrl}`);
  await app.start();

  // Callers: one user and API key per worker, made with the app's own queries.
  Object.assign(process.env, { DATABASE_URL: url, AUTH_SECRET: secret, INSTANCE_ID: "chaos-driver" });
  const { createUser } = await import("../lib/db/queries/users");
  const { createApiKey } = await import("../lib/db/queries/api-keys");
  const { closeDb } = await import("../lib/db/client");
  const keys: string[] = [];
  for (let i = 0; i < concurrency; i++) {
    const user = await createUser({ email: `chaos-${i}-${randomUUID()}@example.test`, password: "chaos password 123" });
    keys.push((await createApiKey({ userId: user.id, name: "chaos", scopes: ["conversations:read", "conversations:write"], expiresAt: null })).key);
  }
  await closeDb();

  const acknowledged = new Set<string>();
  const counts = { acknowledged: 0, refused: 0, unreachable: 0, streamed: 0, json: 0, disconnected: 0, faults: 0 };
  const statuses = new Map<number, number>();
  let started = 0;
  let finished = 0;
  let down = false;

  async function api(key: string, route: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(`${app.url}/api/v1${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: signal ?? AbortSignal.timeout(60_000),
    });
  }

  async function turn(key: string, conversationId: string): Promise<Outcome> {
    const content = `chaos turn ${randomUUID()}`;
    if (Math.random() < faultRate) {
      mock.pushFault(FAULTS[Math.floor(Math.random() * FAULTS.length)]!());
      counts.faults++;
    }
    const style = Math.random();
    const stream = style < 0.8;
    const disconnectAfter = style < 0.2 ? 1 + Math.floor(Math.random() * 6) : Infinity;
    try {
      const res = await api(key, `/conversations/${conversationId}/messages`, { content, stream });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (!stream) {
        counts.json++;
        const body = (await res.json().catch(() => ({}))) as { code?: string };
        // 201, or an upstream failure after retries and fallbacks: the user message is saved either way.
        if (res.status === 201 || String(body.code).startsWith("upstream_")) {
          acknowledged.add(content);
          return "acknowledged";
        }
        return "refused";
      }
      if (res.status !== 201) return "refused";
      counts.streamed++;
      let seen = 0;
      let ack = false;
      await readEvents(res, (event) => {
        if (event.chunk.type === "start") {
          ack = true;
          acknowledged.add(content);
        }
        if (++seen >= disconnectAfter) {
          counts.disconnected++;
          return false;
        }
      }).catch(() => undefined);
      return ack ? "acknowledged" : "refused";
    } catch {
      return "unreachable";
    }
  }

  async function worker(index: number) {
    const key = keys[index]!;
    let conversationId: string | null = null;
    let used = 0;
    while (started < turns) {
      if (down) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (!conversationId || used >= 40) {
        const res = await api(key, "/conversations", { title: `chaos ${index}` }).catch(() => null);
        if (!res || res.status !== 201) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        conversationId = ((await res.json()) as { conversation: { id: string } }).conversation.id;
        used = 0;
      }
      started++;
      used++;
      const outcome = await turn(key, conversationId);
      counts[outcome]++;
      finished++;
      if (outcome === "unreachable") await new Promise((resolve) => setTimeout(resolve, 100));
      if (finished % 1000 === 0) log(`${finished}/${turns} turns`);
    }
  }

  const begun = Date.now();
  const restarts: Array<{ atTurn: number; downMs: number }> = [];
  const killer = (async () => {
    for (let k = 1; k <= kills; k++) {
      const at = Math.floor((turns * k) / (kills + 1));
      while (finished < at) await new Promise((resolve) => setTimeout(resolve, 50));
      log(`kill -9 at turn ${finished}`);
      down = true;
      const t0 = Date.now();
      await app.kill();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await app.start();
      down = false;
      restarts.push({ atTurn: at, downMs: Date.now() - t0 });
      log(`restarted after ${Date.now() - t0} ms`);
    }
  })();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  await killer;
  const elapsedMs = Date.now() - begun;

  // Replies whose readers left are still being written; wait for them to end.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const streamingCount = async () => Number((await db.query("select count(*)::int as n from messages where status = 'streaming'")).rows[0].n);
  for (let i = 0; i < 120 && (await streamingCount()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 500));

  const userContents = new Set<string>(
    (await db.query<{ content: string }>("select content from messages where role = 'user'")).rows.map((r) => r.content),
  );
  const lost = [...acknowledged].filter((c) => !userContents.has(c));
  const byStatus = Object.fromEntries(
    (await db.query<{ status: string; n: number }>("select status, count(*)::int as n from messages where role = 'assistant' group by status order by status")).rows.map((r) => [r.status, r.n]),
  );
  const unanswered = Number(
    (
      await db.query(
        `select count(*)::int as n from messages u where u.role = 'user'
         and not exists (select 1 from messages a where a.conversation_id = u.conversation_id and a.seq = u.seq + 1)`,
      )
    ).rows[0].n,
  );
  const streaming = await streamingCount();
  await db.end();
  await app.stop();
  await mock.close();

  const report = {
    scenario: "chaos",
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
    config: { turns, concurrency, kills, faultRate, database: "postgres", streamLog: "postgres" },
    elapsed_s: Math.round(elapsedMs / 100) / 10,
    turns_per_s: Math.round((turns / (elapsedMs / 1000)) * 10) / 10,
    requests: { ...counts, http_status: Object.fromEntries(statuses) },
    restarts,
    result: {
      acknowledged_user_messages: acknowledged.size,
      lost_user_messages: lost.length,
      stuck_streaming: streaming,
      assistant_status: byStatus,
      user_messages_without_reply: unanswered,
    },
  };
  console.log(JSON.stringify(report, null, 2));
  if (!argv.includes("--no-write")) {
    const dir = path.resolve(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${report.date.slice(0, 10)}-chaos${turns < 10_000 ? "-quick" : ""}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  if (lost.length > 0 || streaming > 0) {
    log(`FAILED: ${lost.length} acknowledged user message(s) lost, ${streaming} reply(ies) stuck streaming`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
