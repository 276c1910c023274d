import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stopProcessGroup } from "./app-process";
import type { StreamLoadConfig, StreamLoadResult, StreamTarget } from "./stream-load";

/**
 * Shared plumbing for bench/ttft.ts and bench/streams.ts: the mock LLM in a process of its own,
 * seeding a user and API key, running bench/lib/stream-load.ts as a child process, the provider
 * request the app sends (for the calibration run straight against the mock), the app's root pid
 * and the event-loop lag the app's /api/metrics reports (process CPU and RSS: ./proc.ts).
 */

const root = path.resolve(import.meta.dirname, "../..");
const tsxCli = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");

/**
 * The environment of a `next start` under load: the real OpenAI provider pointed at the mock, and
 * every limit that would refuse the benchmark's own traffic (rate limits, budgets, the response
 * cache) out of the way.
 */
export function appOnMockEnv(mockUrl: string, secret: string): Record<string, string> {
  return {
    REDIS_URL: "",
    AUTH_SECRET: secret,
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: `${mockUrl}/v1`,
    GROQ_API_KEY: "",
    CHAT_MODEL: "openai:gpt-4o-mini",
    RESPONSE_CACHE: "off",
    RATE_LIMIT_PER_MINUTE: "100000000",
    RATE_LIMIT_CHAT_PER_MINUTE: "100000000",
    BUDGET_TOKENS_PER_DAY: "0",
    BUDGET_USD_PER_MONTH: "0",
    API_KEY_BUDGET_TOKENS_PER_DAY: "0",
    API_KEY_BUDGET_USD_PER_MONTH: "0",
    LOG_LEVEL: "warn",
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The project's mock LLM (test/mock-llm/main.ts) in its own process group. */
export class MockProcess {
  private child: ChildProcess | null = null;
  readonly url: string;

  constructor(readonly port: number) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [tsxCli, path.join(root, "test", "mock-llm", "main.ts")], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, MOCK_LLM_PORT: String(this.port) },
    });
    this.child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mock LLM on :${this.port} exited during start`);
      const up = await fetch(`${this.url}/__mock/requests`).then((r) => r.ok, () => false);
      if (up) return;
      if (Date.now() > deadline) throw new Error(`mock LLM on :${this.port} not up after 30 s`);
      await sleep(200);
    }
  }

  /** The root of the mock's process tree (tsx and the node process it runs). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async control(route: "settings" | "reset" | "requests", body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/__mock/${route}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`mock ${route}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    await stopProcessGroup(this.child, 5_000);
    this.child = null;
  }
}

/** Runs a script under tsx in its own process; resolves with its stdout (stderr passes through). */
export function runTsx(script: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, path.join(root, script), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}

/** One user and API key, written with the app's own queries before the app opens the database. */
export async function seedApiKey(env: Record<string, string>): Promise<string> {
  const out = await runTsx("bench/lib/seed-key.ts", [], { LOG_LEVEL: "warn", ...env }, 120_000);
  return (JSON.parse(out.trim().split("\n").at(-1)!) as { key: string }).key;
}

/** Runs the load generator in its own process and returns its result. */
export async function runLoadProcess(config: StreamLoadConfig): Promise<StreamLoadResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-load-"));
  const file = path.join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  try {
    const limit = config.timeoutMs * 4 + (config.mode.type === "ramp" ? (config.mode.target / config.mode.openPerSecond) * 1000 + config.mode.holdMs : 0) + 60_000;
    const out = await runTsx("bench/lib/stream-load.ts", [file], {}, limit);
    return JSON.parse(out.trim().split("\n").at(-1)!) as StreamLoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates `count` empty conversations for the key's user; returns their ids. */
export async function createConversations(appUrl: string, key: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const res = await fetch(`${appUrl}/api/v1/conversations`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ title: `bench ${i + j}` }),
        });
        if (res.status !== 201) throw new Error(`create conversation: HTTP ${res.status} ${await res.text()}`);
        return ((await res.json()) as { conversation: { id: string } }).conversation.id;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

export function appTarget(appUrl: string, key: string, conversationId: string, content: string): StreamTarget {
  return {
    url: `${appUrl}/api/v1/conversations/${conversationId}/messages`,
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ content, stream: true }),
  };
}

/** The streaming generation request the app last sent to the mock, as a target for the same call straight at the mock. */
export async function lastProviderRequest(mock: MockProcess): Promise<StreamTarget & { path: string }> {
  const { requests } = (await mock.control("requests")) as { requests: Array<{ path: string; body: Record<string, unknown>; headers: Record<string, string> }> };
  const generation = requests.filter((r) => (r.path.endsWith("/responses") || r.path.endsWith("/chat/completions")) && r.body.stream === true);
  const last = generation.at(-1);
  if (!last) throw new Error(`the app sent no streaming generation request to the mock (saw ${requests.map((r) => r.path).join(", ") || "nothing"})`);
  return {
    path: last.path,
    url: `${mock.url}${last.path}`,
    headers: { authorization: last.headers.authorization ?? "Bearer sk-bench" },
    body: JSON.stringify(last.body),
  };
}

/**
 * The root of the app's process tree: AppProcess gives `next start` PORT=<port> in its environment
 * (Next renames the process, so the command line does not say), and its children inherit it.
 */
export function findAppPid(port: number): number {
  const matches = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!environ.includes(`PORT=${port}`) || !environ.includes("NODE_ENV=production")) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      matches.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone, or not ours to read
    }
  }
  const roots = [...matches].filter(([, ppid]) => !matches.has(ppid)).map(([pid]) => pid);
  if (roots.length !== 1) throw new Error(`expected one app process with PORT=${port}, found ${roots.length}`);
  return roots[0]!;
}

/** Scrapes the event-loop lag series of /api/metrics every `everyMs` (prom-client resets the histogram on each scrape). */
export function scrapeLoopLag(appUrl: string, token: string, everyMs = 1_000): { stop: () => Promise<{ p99: number[]; max: number[]; failures: number }> } {
  const p99: number[] = [];
  const max: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    // The first scrape only resets the histogram (it holds everything since start-up or the last scrape).
    await fetch(`${appUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text(), () => "");
    await sleep(everyMs);
    while (running) {
      try {
        const res = await fetch(`${appUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        const value = (name: string) => {
          const match = new RegExp(`^botgpt_process_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
          return match ? Number(match[1]) * 1000 : NaN;
        };
        const [a, b] = [value("p99"), value("max")];
        if (Number.isFinite(a)) p99.push(a);
        if (Number.isFinite(b)) max.push(b);
      } catch {
        failures++;
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { p99, max, failures };
    },
  };
}

export const ms = (value: number) => (Number.isFinite(value) ? Math.round(value * 10) / 10 : null);
