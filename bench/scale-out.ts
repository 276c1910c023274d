/**
 * Scale-out check (issue 6): three `next start` instances on loopback sharing one Postgres database
 * and one Redis, behind no sticky sessions — each request goes to whichever instance the script
 * picks. Checks that a conversation continues on any instance, that a reply streamed by one
 * instance resumes from another with Last-Event-ID (no duplicate, no gap), that a stop sent to
 * another instance stops it, and that rate limits are global, not per instance.
 *
 *   npx tsx bench/scale-out.ts [--url postgres://…/bot_gpt_bench_scale] [--redis redis://127.0.0.1:6379/7]
 *
 * Writes bench/results/<date>-scale-out.json and exits non-zero if a check fails.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { MockLlmServer } from "../test/mock-llm/server";
import { AppProcess, ensureBuild } from "./lib/app-process";
import { readSseEvents as readEvents, textOfEvents as textOf, type SseEvent } from "../test/support/sse";
import { benchPort, flag, log, recreateDatabase, scratchUrl } from "./lib/setup";

type Check = { name: string; ok: boolean; detail: Record<string, unknown> };

async function main() {
  const argv = process.argv.slice(2);
  const url = flag(argv, "--url") ?? scratchUrl("bot_gpt_bench_scale");
  const redisUrl = flag(argv, "--redis") ?? "redis://127.0.0.1:6379/7";
  const basePort = Number(flag(argv, "--port") ?? benchPort(3330));
  const rateLimit = 40;

  ensureBuild(log);
  await recreateDatabase(url);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const mock = new MockLlmServer();
  const mockUrl = await mock.listen();
  const secret = "scale-secret-scale-secret-scale-secret";
  const apps = [0, 1, 2].map(
    (i) =>
      new AppProcess(basePort + i, {
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        AUTH_SECRET: secret,
        OPENAI_API_KEY: "sk-scale",
        OPENAI_BASE_URL: `${mockUrl}/v1`,
        GROQ_API_KEY: "",
        CHAT_MODEL: "openai:gpt-4o-mini",
        INSTANCE_ID: `scale-${i + 1}`,
        RATE_LIMIT_PER_MINUTE: String(rateLimit),
        RESPONSE_CACHE: "off",
      }),
  );
  log(`starting three instances on :${basePort}-${basePort + 2} (Postgres ${new URL(url).pathname.slice(1)}, Redis ${redisUrl})`);
  // One at a time: the first runs the migrations under the advisory lock, the others find them applied.
  for (const app of apps) await app.start();
  const [a, b, c] = apps as [AppProcess, AppProcess, AppProcess];

  Object.assign(process.env, { DATABASE_URL: url, AUTH_SECRET: secret, INSTANCE_ID: "scale-driver", REDIS_URL: "" });
  const { createUser } = await import("../lib/db/queries/users");
  const { createApiKey } = await import("../lib/db/queries/api-keys");
  const { closeDb } = await import("../lib/db/client");
  // Limits apply per user and per key: the rate-limit check gets a user of its own.
  const newKey = async () => {
    const user = await createUser({ email: `scale-${randomUUID()}@example.test`, password: "scale password 123" });
    return (await createApiKey({ userId: user.id, name: "scale", scopes: ["conversations:read", "conversations:write"], expiresAt: null })).key;
  };
  const key = await newKey();
  const limitKey = await newKey();
  await closeDb();

  const request = (app: AppProcess, route: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; bearer?: string } = {}) =>
    fetch(`${app.url}/api/v1${route}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        authorization: `Bearer ${init.bearer ?? key}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  const checks: Check[] = [];
  const contiguous = (events: SseEvent[]) => events.every((e, i) => e.id === i + 1);

  // 1. One conversation, three instances.
  {
    const created = (await (await request(a, "/conversations", { body: { title: "scale-out" } })).json()) as { conversation: { id: string } };
    const id = created.conversation.id;
    const onB = await request(b, `/conversations/${id}/messages`, { body: { content: "first, on B" } });
    const onC = await request(c, `/conversations/${id}/messages`, { body: { content: "second, on C", stream: true } });
    const streamed = await readEvents(onC);
    const onA = await request(a, `/conversations/${id}/messages`, { body: { content: "third, on A" } });
    const history = (await (await request(b, `/conversations/${id}`)).json()) as { messages: Array<{ seq: number; role: string; status: string; content: string }> };
    const seqs = history.messages.map((m) => m.seq);
    const ok =
      onB.status === 201 &&
      onC.status === 201 &&
      streamed.done &&
      onA.status === 201 &&
      JSON.stringify(seqs) === JSON.stringify([1, 2, 3, 4, 5, 6]) &&
      history.messages.every((m) => m.status === "complete") &&
      history.messages.filter((m) => m.role === "user").map((m) => m.content).join("|") === "first, on B|second, on C|third, on A";
    checks.push({ name: "a conversation continues on any instance", ok, detail: { seqs, statuses: history.messages.map((m) => m.status) } });
  }

  // 2. A reply streamed by A, resumed from B after the 10th event.
  {
    const words = Array.from({ length: 80 }, (_, i) => `w${i}`).join(" ");
    mock.settings.reply = words;
    mock.settings.chunkDelayMs = 25;
    const created = (await (await request(a, "/conversations", { body: {} })).json()) as { conversation: { id: string } };
    const id = created.conversation.id;
    const res = await request(a, `/conversations/${id}/messages`, { body: { content: "a long one", stream: true } });
    const first = await readEvents(res, (e) => e.id !== 10);
    const replyId = (first.events[0]!.chunk.messageMetadata as { assistant_message_id: string }).assistant_message_id;
    const resumed = await readEvents(await request(b, `/conversations/${id}/messages/${replyId}/stream`, { headers: { "last-event-id": "10" } }));
    const all = [...first.events, ...resumed.events];
    const stored = (await (await request(c, `/conversations/${id}`)).json()) as { messages: Array<{ id: string; content: string; status: string }> };
    const row = stored.messages.find((m) => m.id === replyId);
    const replay = await readEvents(await request(c, `/conversations/${id}/messages/${replyId}/stream`));
    const ok =
      first.events.length === 10 &&
      resumed.done &&
      resumed.events[0]?.id === 11 &&
      contiguous(all) &&
      textOf(all) === words &&
      row?.status === "complete" &&
      row.content === words &&
      contiguous(replay.events) &&
      textOf(replay.events) === words;
    checks.push({
      name: "a stream started on one instance resumes on another (Last-Event-ID, no duplicate, no gap)",
      ok,
      detail: { first_events: first.events.length, resumed_events: resumed.events.length, first_resumed_id: resumed.events[0]?.id, text_matches: textOf(all) === words, stored_status: row?.status },
    });
  }

  // 3. A reply generated on A, stopped through C.
  {
    mock.settings.reply = Array.from({ length: 200 }, (_, i) => `s${i}`).join(" ");
    mock.settings.chunkDelayMs = 40;
    const created = (await (await request(a, "/conversations", { body: {} })).json()) as { conversation: { id: string } };
    const id = created.conversation.id;
    const res = await request(a, `/conversations/${id}/messages`, { body: { content: "go on and on", stream: true } });
    let replyId = "";
    // The whole stop exchange (status and parsed body) is one promise, awaited after the stream
    // ends: reading the status alone let the check see a 200 before its body had been parsed.
    let stopCall: Promise<{ status: number; body: { status?: string } }> | undefined;
    const live = await readEvents(res, (e) => {
      if (e.chunk.type === "start") replyId = (e.chunk.messageMetadata as { assistant_message_id: string }).assistant_message_id;
      if (e.id === 8) {
        stopCall = request(c, `/conversations/${id}/messages/${replyId}/stop`, { method: "POST" }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { status?: string },
        }));
      }
    });
    const stop = stopCall ? await stopCall : { status: 0, body: {} as { status?: string } };
    const stopStatus = stop.status;
    const stopped = stop.body;
    const closedEarly = mock.closedEarly;
    const ok = stopStatus === 200 && stopped.status === "aborted" && live.events.at(-1)?.chunk.type === "abort" && closedEarly >= 1;
    checks.push({ name: "a stop sent to another instance stops the reply", ok, detail: { stop_status: stopStatus, stored_status: stopped.status ?? null, last_part: live.events.at(-1)?.chunk.type, provider_requests_cancelled: closedEarly } });
    mock.reset();
  }

  // 4. Rate limits are shared: one key, requests spread over the three instances.
  {
    const sent = 60;
    const statuses: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < sent; i++) statuses.push((await request(apps[i % 3]!, "/conversations?limit=1", { bearer: limitKey })).status);
    const elapsedS = (Date.now() - t0) / 1000;
    const accepted = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    // Per-instance buckets would let all 60 through (20 per instance); a shared bucket stops at the
    // limit, plus what refills while the requests are being sent.
    const refill = Math.ceil((elapsedS * rateLimit) / 60);
    const ok = accepted >= rateLimit - 1 && accepted <= rateLimit + refill + 1 && limited === sent - accepted;
    checks.push({ name: "rate limits are global across instances", ok, detail: { limit_per_minute: rateLimit, sent, accepted, limited, seconds: Math.round(elapsedS * 10) / 10 } });
  }

  for (const app of apps) await app.stop();
  await mock.close();

  const report = { scenario: "scale-out", date: new Date().toISOString(), instances: 3, database: "postgres", redis: true, checks };
  console.log(JSON.stringify(report, null, 2));
  if (!argv.includes("--no-write")) {
    const dir = path.resolve(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${report.date.slice(0, 10)}-scale-out.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  const failed = checks.filter((check) => !check.ok);
  for (const check of checks) log(`${check.ok ? "ok  " : "FAIL"} ${check.name}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
