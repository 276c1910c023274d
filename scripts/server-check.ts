/**
 * Boots the production server the way it is deployed and checks it end to end over HTTP:
 * /api/health and /api/ready, sign-up, sign-in, sign-out and the sign-in throttle, a chat turn on the offline model, a PDF indexed
 * by the ingestion worker, and graceful shutdown on SIGTERM — /api/ready turns 503 `draining`, a
 * reply that fits in SHUTDOWN_GRACE_MS completes, one that does not is marked `interrupted` and a
 * reader resuming it on another instance gets its end, and the process exits 0 in time. Then the
 * HTTP edge (scripts/server-check-edge.ts): oversized chunked bodies, methods and paths Next.js
 * would answer 500, 405/OPTIONS, next-auth's pages' CSP.
 *
 *   npx tsx scripts/server-check.ts --standalone  # .next/standalone assembled as the Dockerfile does
 *   npx tsx scripts/server-check.ts               # `next start` on the current build
 *
 * `npm run build` produces both (BUILD_STANDALONE=1); `npm run test:e2e` runs the standalone check.
 * The standalone mode reads the Dockerfile's final stage (COPY lines, ENV, CMD, HEALTHCHECK path),
 * so the image and this check cannot drift apart.
 *
 * Then start-up under trouble: kill -9 mid-reply and an immediate restart (it serves and recovers
 * the reply), a second server on a held embedded database and one with an invalid setting (both
 * exit 1 with the reason instead of answering 500).
 *
 * Uses embedded PGlite in a temporary directory (or `--url postgres://… --redis redis://…`) and no
 * provider keys; ports 3400-3405 (shifted by E2E_PORT_OFFSET). Exits non-zero when a check fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makePdf } from "../test/support/make-pdf";
import { checkEdge } from "./server-check-edge";
import { readSseEvents, type SseEvent } from "../test/support/sse";

const root = path.resolve(import.meta.dirname, "..");
const standalone = process.argv.includes("--standalone");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
/** `--url postgres://…` and `--redis redis://…`: run on a shared database and stream log instead of PGlite. */
const shared = { DATABASE_URL: flag("--url") ?? "", REDIS_URL: flag("--redis") ?? "" };
const basePort = 3400 + Number(process.env.E2E_PORT_OFFSET ?? 0);
const work = mkdtempSync(path.join(os.tmpdir(), "bot-gpt-server-check-"));
const dataDir = path.join(work, "data");
const secret = "server-check-secret-server-check";

const log = (message: string) => process.stderr.write(`${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Check = { name: string; ok: boolean; detail?: unknown };
const checks: Check[] = [];
function check(name: string, ok: boolean, detail?: unknown): void {
  checks.push({ name, ok, detail });
  log(`${ok ? "ok  " : "FAIL"} ${name}${ok || detail === undefined ? "" : ` ${JSON.stringify(detail)}`}`);
}

/**
 * The Dockerfile's final stage, read rather than restated so this check follows it: what it copies
 * from the build stage, its ENV, its CMD and the path its HEALTHCHECK probes.
 */
function runnerStage(): { copies: Array<{ from: string; to: string }>; env: Record<string, string>; cmd: string[]; healthPath: string } {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const stages = text.split(/^FROM /m);
  const runner = stages.find((stage) => /\bAS runner\b/.test(stage.split("\n")[0] ?? ""));
  if (!runner) throw new Error("Dockerfile: no `AS runner` stage");
  const lines = runner.split("\n").map((line) => line.trim());
  const copies = lines
    .filter((line) => line.startsWith("COPY --from=build"))
    .map((line) => {
      const [from, to] = line.split(/\s+/).filter((word) => !word.startsWith("--")).slice(1);
      if (!from?.startsWith("/app/") || !to) throw new Error(`Dockerfile: unexpected ${line}`);
      return { from: from.slice("/app/".length), to };
    });
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith("ENV "))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const at = pair.indexOf("=");
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  const cmd = JSON.parse(lines.find((l) => l.startsWith("CMD "))?.slice(4) ?? "null") as string[] | null;
  const healthPath = /HEALTHCHECK[^\n]*?(\/api\/[a-z]+)/.exec(runner)?.[1];
  if (!cmd || !healthPath) throw new Error("Dockerfile: the runner stage needs a CMD (exec form) and a HEALTHCHECK on /api/…");
  return { copies, env, cmd, healthPath };
}

const image = standalone ? runnerStage() : null;

/** The directory the server runs from: the repository, or a copy of the image's /app. */
function serverDir(): string {
  if (!image) {
    if (!existsSync(path.join(root, ".next", "BUILD_ID"))) throw new Error("no production build: run `npm run build` first");
    return root;
  }
  if (!existsSync(path.join(root, ".next", "standalone", "server.js"))) throw new Error("no standalone build: run `npm run build` (BUILD_STANDALONE=1) first");
  // The Dockerfile's COPY lines, into a directory with no node_modules above it.
  const app = path.join(work, "app");
  for (const { from, to } of image.copies) cpSync(path.join(root, from), path.join(app, to), { recursive: true, verbatimSymlinks: true });
  return app;
}

class Server {
  readonly url: string;
  private child: ChildProcess | null = null;
  output = "";
  /** Bytes of output so far, kept or not: `outputSince(mark)` is what came after. */
  written = 0;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });

  constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly extra: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.launch();
    const child = this.child!;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server on :${this.port} exited during start:\n${this.output}`);
      if (await fetch(`${this.url}/api/health`).then((r) => r.ok, () => false)) return;
      await sleep(200);
    }
    throw new Error(`server on :${this.port} did not start:\n${this.output}`);
  }

  /** Starts the process without waiting for it to serve (for servers expected to refuse to start). */
  launch(): void {
    const [program, ...args] = image
      ? image.cmd
      : ["node", path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(this.port), "-H", "127.0.0.1"];
    if (program !== "node") throw new Error(`Dockerfile CMD runs ${program}, not node`);
    // A container's environment: the image's ENV (or what `npm start` sets), PATH and HOME.
    const childEnv: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(image?.env ?? { NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", NEXT_MANUAL_SIG_HANDLE: "1" }),
      PORT: String(this.port),
      HOSTNAME: "127.0.0.1",
      NEXTAUTH_URL: this.url,
      DATA_DIR: dataDir,
      ...shared,
      AUTH_SECRET: secret,
      LOG_LEVEL: "info",
      ...this.extra,
    };
    const child = spawn(process.execPath, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"], env: childEnv as NodeJS.ProcessEnv });
    const keep = (chunk: Buffer) => {
      this.written += chunk.length;
      this.output = (this.output + chunk.toString()).slice(-30_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.child = child;
    this.exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** The exit code if the process ends within `ms`, else "running". */
  exitWithin(ms: number): Promise<number | null | "running"> {
    return Promise.race([this.exit.then((e) => e.code), sleep(ms).then(() => "running" as const)]);
  }

  outputSince(mark: number): string {
    return this.output.slice(-Math.max(0, this.written - mark));
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error(`server on :${this.port} is not running`);
    return this.child.pid;
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  kill(): void {
    if (this.child && this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** A browser-like session: cookies kept between requests. */
class Client {
  private cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  at(base: string): Client {
    const other = new Client(base);
    other.cookies = this.cookies;
    return other;
  }

  async fetch(route: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    headers.set("origin", this.base);
    const response = await fetch(`${this.base}${route}`, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return response;
  }

  json(route: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(route, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  }

  async signUpAndIn(email: string, password: string): Promise<number[]> {
    const signUp = await this.json("/api/auth/sign-up", { email, password, name: "Server check" });
    const signIn = await this.signIn(email, password);
    const session = (await (await this.fetch("/api/auth/session")).json()) as { user?: { email?: string } };
    return [signUp.status, signIn, session.user?.email === email ? 200 : 401];
  }

  /** next-auth's credentials flow as its client runs it; the status of the callback. */
  async signIn(email: string, password: string, headers: Record<string, string> = {}): Promise<number> {
    const { csrfToken } = (await (await this.fetch("/api/auth/csrf")).json()) as { csrfToken: string };
    const response = await this.fetch("/api/auth/callback/credentials", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ csrfToken, email, password, json: "true", callbackUrl: this.base }),
    });
    return response.status;
  }

  async signOut(): Promise<number> {
    const { csrfToken } = (await (await this.fetch("/api/auth/csrf")).json()) as { csrfToken: string };
    const response = await this.fetch("/api/auth/signout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken, json: "true" }),
    });
    return response.status;
  }

  /** The Cookie header this client sends now. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

const replyIdOf = (events: SseEvent[]) =>
  (events.find((e) => e.chunk.type === "start")?.chunk.messageMetadata as { assistant_message_id?: string } | undefined)?.assistant_message_id;

async function newConversation(client: Client): Promise<string> {
  const created = (await (await client.json("/api/v1/conversations", { title: "server check" })).json()) as { conversation: { id: string } };
  return created.conversation.id;
}

/** Sends SIGTERM and watches /api/ready and /api/health until the process exits. */
async function terminate(server: Server): Promise<{ ms: number; code: number | null; ready: number[]; health: number[]; reason?: unknown }> {
  const started = Date.now();
  server.signal("SIGTERM");
  const ready: number[] = [];
  const health: number[] = [];
  let reason: unknown;
  let exited = false;
  void server.exit.then(() => (exited = true));
  while (!exited && ready.length < 5) {
    const r = await fetch(`${server.url}/api/ready`).catch(() => null);
    if (r) {
      ready.push(r.status);
      const body = (await r.json().catch(() => ({}))) as { reason?: unknown };
      if (r.status === 503) reason ??= body.reason;
    }
    const h = await fetch(`${server.url}/api/health`).catch(() => null);
    if (h) health.push(h.status);
    await sleep(100);
  }
  const { code } = await server.exit;
  return { ms: Date.now() - started, code, ready, health, reason };
}

async function main() {
  const dir = serverDir();
  log(`server check (${standalone ? "standalone" : "next start"}) from ${dir}`);
  const servers: Server[] = [];
  try {
    // 1. Boot, readiness, an account, a chat turn, a PDF. Grace long enough for a reply to finish.
    const first = new Server(dir, basePort, { INSTANCE_ID: "check-1", OFFLINE_TOKEN_DELAY_MS: "15", SHUTDOWN_GRACE_MS: "20000" });
    servers.push(first);
    await first.start();
    const healthPath = image?.healthPath ?? "/api/health";
    const health = await fetch(`${first.url}${healthPath}`);
    check(`GET ${healthPath} (the image's HEALTHCHECK) answers 200`, health.status === 200);
    const readyBody = (await (await fetch(`${first.url}/api/ready`)).json()) as Record<string, unknown>;
    const expected = { status: "ready", database: shared.DATABASE_URL ? "postgres" : "pglite", migrated: true, redis: shared.REDIS_URL ? "ok" : "not_configured" };
    check(`GET /api/ready: ${JSON.stringify(expected)}`, JSON.stringify(readyBody) === JSON.stringify(expected), readyBody);

    const client = new Client(first.url);
    const account = { email: `check-${Date.now()}@example.test`, password: "server check password" };
    const auth = await client.signUpAndIn(account.email, account.password);
    check("sign-up (202), sign-in and a session", auth[0] === 202 && auth[2] === 200, auth);

    const conversation = await newConversation(client);
    const turn = await readSseEvents(await client.json(`/api/v1/conversations/${conversation}/messages`, { content: "Hello from the server check", stream: true }));
    const finish = turn.events.find((e) => e.chunk.type === "finish");
    check("a streamed chat turn on the offline model finishes", turn.done && Boolean(finish) && turn.events.some((e) => e.chunk.type === "text-delta"), { events: turn.events.length, done: turn.done });

    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(makePdf(["The standalone server indexes this page.", "And this second page too."]))], { type: "application/pdf" }), "check.pdf");
    const uploaded = await client.fetch("/api/v1/documents", { method: "POST", body: form });
    const uploadBody = (await uploaded.json()) as { id?: string; document?: { id: string } };
    const documentId = uploadBody.document?.id ?? uploadBody.id;
    let documentStatus = "unknown";
    let documentBody: unknown;
    for (let i = 0; i < 150 && documentId; i++) {
      documentBody = await (await client.fetch(`/api/v1/documents/${documentId}`)).json();
      const doc = documentBody as { status?: string; document?: { status: string } };
      documentStatus = doc.document?.status ?? doc.status ?? "unknown";
      if (documentStatus === "ready" || documentStatus === "failed") break;
      await sleep(200);
    }
    check("a PDF upload (202) is parsed by the worker and reaches `ready`", uploaded.status === 202 && documentStatus === "ready", { upload: uploaded.status, documentBody });

    // 2. SIGTERM while a reply streams, with time to finish it.
    const slow = await client.json(`/api/v1/conversations/${conversation}/messages`, { content: "Another one, streamed while the server stops", stream: true });
    let signalled: ReturnType<typeof terminate> | undefined;
    const streamed = await readSseEvents(slow, (event) => {
      if (event.id === 5) signalled = terminate(first);
    });
    const stopped = await signalled!;
    check(
      "SIGTERM: /api/ready answers 503 `draining` while /api/health stays 200",
      // A probe sent the instant the signal goes out may still be answered before the handler runs.
      stopped.ready.includes(503) && stopped.ready.slice(stopped.ready.indexOf(503)).every((s) => s === 503) && stopped.reason === "draining" && stopped.health.every((s) => s === 200),
      stopped,
    );
    check("SIGTERM: the in-flight reply streams to its end", streamed.done && streamed.events.some((e) => e.chunk.type === "finish"), { events: streamed.events.length, done: streamed.done });
    check("SIGTERM: the process exits 0 once its reply is done, well within the grace period", stopped.code === 0 && stopped.ms < 15_000, { code: stopped.code, ms: stopped.ms });

    // 3. SIGTERM with a reply that cannot finish within the grace period.
    const second = new Server(dir, basePort + 1, { INSTANCE_ID: "check-2", OFFLINE_TOKEN_DELAY_MS: "150", SHUTDOWN_GRACE_MS: "1500" });
    servers.push(second);
    await second.start();
    const onSecond = client.at(second.url);
    const longOne = await onSecond.json(`/api/v1/conversations/${conversation}/messages`, { content: "A reply too long for the grace period", stream: true });
    let cut: ReturnType<typeof terminate> | undefined;
    const partial: SseEvent[] = [];
    // The connection breaks when the process exits (fetch: "terminated"), as for a real client.
    const broken = await readSseEvents(longOne, (event) => {
      partial.push(event);
      if (event.id === 3) cut = terminate(second);
    }).then(
      () => false,
      () => true,
    );
    const cutShort = await cut!;
    check("grace exceeded: the stream is cut off unfinished when the process exits", broken && !partial.some((e) => e.chunk.type === "finish"), { broken, events: partial.length });
    check("grace exceeded: the process still exits 0, shortly after SHUTDOWN_GRACE_MS", cutShort.code === 0 && cutShort.ms < 1_500 + 8_000, { code: cutShort.code, ms: cutShort.ms });
    const replyId = replyIdOf(partial);
    const lastId = Math.max(...partial.map((e) => e.id ?? 0));

    // 4. Another instance (not the one that wrote it; start-up recovery only sweeps its own): the
    //    row says interrupted, never `streaming`, and a resuming reader gets the stream's end.
    const third = new Server(dir, basePort + 2, { INSTANCE_ID: "check-3", RATE_LIMIT_SIGN_IN_PER_ADDRESS: "4" });
    servers.push(third);
    await third.start();
    const onThird = client.at(third.url);
    const history = (await (await onThird.fetch(`/api/v1/conversations/${conversation}`)).json()) as { messages: Array<{ id: string; status: string; content: string }> };
    const row = history.messages.find((m) => m.id === replyId);
    check("the cut-off reply is stored `interrupted` with the text streamed so far", row?.status === "interrupted" && (row?.content.length ?? 0) > 0, { status: row?.status, chars: row?.content.length });
    const resumed = await readSseEvents(await onThird.fetch(`/api/v1/conversations/${conversation}/messages/${replyId}/stream`, { headers: { "last-event-id": String(lastId) } }));
    check(
      "resuming it on another instance (Last-Event-ID) ends the stream with an error, no duplicate",
      resumed.done && resumed.events.every((e) => (e.id ?? 0) > lastId) && resumed.events.some((e) => e.chunk.type === "error" || e.chunk.type === "finish"),
      { events: resumed.events.map((e) => e.chunk.type), lastId },
    );

    // 5. Accounts: signing out ends the session for its old cookie too, and the sign-in throttle
    //    keys on the connection's address whatever X-Forwarded-For a client makes up (the server
    //    appends the peer before Next sees the request).
    //    A browser of its own, so the session the later steps use stays signed in.
    const leaving = new Client(third.url);
    await leaving.signIn(account.email, account.password);
    const oldCookie = leaving.cookieHeader();
    const signedOut = await leaving.signOut();
    const reused = await fetch(`${third.url}/api/v1/conversations`, { headers: { cookie: oldCookie } });
    check("sign-out (200): the old session cookie then gets 401", signedOut === 200 && reused.status === 401, { signedOut, reused: reused.status });
    // The address's budget is 4: the browser that signed out took one, so the guesser gets three.
    const guesser = new Client(third.url);
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) guesses.push(await guesser.signIn(`nobody-${i}@example.test`, "wrong password", { "x-forwarded-for": `10.0.0.${i + 1}` }));
    check("sign-in throttle per address ignores a spoofed X-Forwarded-For (401 × 3, then 429)", guesses.join() === "401,401,401,429", guesses);

    // 6. The HTTP edge, on the same production server.
    await checkEdge({ base: third.url, pid: third.pid, log: { mark: () => third.written, since: (mark) => third.outputSince(mark) }, check });
    const last = await terminate(third);
    check("an idle server exits 0 at once on SIGTERM", last.code === 0 && last.ms < 5_000, { code: last.code, ms: last.ms });

    // 7. kill -9 mid-reply and a supervisor's immediate restart (same INSTANCE_ID): the new process
    //    gets the database (the embedded one's OS lock went with the dead process), recovers the
    //    reply as interrupted and serves.
    const crashing = new Server(dir, basePort + 3, { INSTANCE_ID: "check-4", OFFLINE_TOKEN_DELAY_MS: "150" });
    servers.push(crashing);
    await crashing.start();
    let crashedReply: string | undefined;
    const crashTurn = await client.at(crashing.url).json(`/api/v1/conversations/${conversation}/messages`, { content: "A reply cut by kill -9", stream: true });
    // A refused turn would never reach the kill below: end the check here instead of waiting forever.
    if (!crashTurn.ok) throw new Error(`the turn to kill mid-reply was refused: ${crashTurn.status} ${await crashTurn.text()}`);
    const killed = await readSseEvents(crashTurn, (event) => {
      crashedReply ??= replyIdOf([event]);
      if (event.id === 3) crashing.kill();
    }).then(
      () => false,
      () => true,
    );
    await crashing.exit;
    const restarted = new Server(dir, basePort + 4, { INSTANCE_ID: "check-4" });
    servers.push(restarted);
    const restartedAt = Date.now();
    await restarted.start();
    const afterCrash = (await (await client.at(restarted.url).fetch(`/api/v1/conversations/${conversation}`)).json()) as { messages: Array<{ id: string; status: string }> };
    check(
      "kill -9 mid-reply: a restart at once serves, with the reply marked `interrupted`",
      killed && afterCrash.messages.find((m) => m.id === crashedReply)?.status === "interrupted",
      { killed, ms: Date.now() - restartedAt, status: afterCrash.messages.find((m) => m.id === crashedReply)?.status },
    );
    if (!shared.DATABASE_URL) {
      check("the embedded database is locked by the OS (no pid-file fallback)", !/no OS file lock/.test(crashing.output + restarted.output), restarted.output.slice(-2_000));
      // 8. A second server on a PGlite directory another live process holds exits 1, naming it.
      const intruder = new Server(dir, basePort + 5, { INSTANCE_ID: "check-6" });
      servers.push(intruder);
      intruder.launch();
      const code = await intruder.exitWithin(60_000);
      check(
        "a second server on the held embedded database exits 1 and names the holder",
        code === 1 && intruder.output.includes(`is in use by process ${restarted.pid}`),
        { code, output: intruder.output.slice(-1_000) },
      );
    }
    // 9. Invalid configuration: exit 1 with the reason, not a server answering 500.
    const misconfigured = new Server(dir, basePort + 5, { INSTANCE_ID: "check-7", METRICS_TOKEN: "too-short" });
    servers.push(misconfigured);
    misconfigured.launch();
    const misconfiguredCode = await misconfigured.exitWithin(60_000);
    check(
      "a server with an invalid setting exits 1 and says which",
      misconfiguredCode === 1 && misconfigured.output.includes("cannot start") && misconfigured.output.includes("METRICS_TOKEN"),
      { code: misconfiguredCode, output: misconfigured.output.slice(-1_000) },
    );
  } catch (error) {
    check("the check ran to its end", false, error instanceof Error ? error.message : String(error));
    for (const server of servers) log(`--- :${server.port} output ---\n${server.output.split("\n").slice(-40).join("\n")}`);
  } finally {
    for (const server of servers) server.kill();
    rmSync(work, { recursive: true, force: true });
  }
  const failed = checks.filter((c) => !c.ok);
  log(`${checks.length - failed.length}/${checks.length} checks passed`);
  if (failed.length > 0) process.exit(1);
}

void main();
