import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness";
import { readSseEvents } from "../support/sse";

/**
 * Issue 17 item 12: real server processes (test/support/app-server.ts starts like `next start`).
 * A server killed with SIGKILL mid-reply is restarted at once — while the killed process is still
 * a zombie, as it is until its supervisor reaps it — and the new one comes up, marks the reply
 * interrupted with its partial text, and answers. A server that cannot start exits 1 with the
 * reason instead of answering 500 forever.
 */

let h: Harness;
const usesPostgres = Boolean(process.env.DATABASE_URL);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bgpt-restart-"));
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness();
  h.mock.settings.reply = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
  h.mock.settings.chunkDelayMs = 40;
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await h.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const serverEnv = (extra: Record<string, string> = {}) => ({
  ...process.env,
  NEXT_RUNTIME: "nodejs",
  INSTANCE_ID: "restart-test-instance",
  DATA_DIR: usesPostgres ? "memory://" : dataDir,
  LOG_LEVEL: "warn",
  ...extra,
});

type Server = { pid: number; url: Promise<string>; output: () => string; exited: Promise<number | null> };

/**
 * Starts test/support/app-server.ts. `unreaped`: under a shell that execs `sleep`, which never
 * waits for it, so once killed it stays a zombie (Node's child_process would reap it at once).
 */
function startServer(env: NodeJS.ProcessEnv, { unreaped = false } = {}): Server {
  const command = "node --import tsx test/support/app-server.ts";
  const child = unreaped
    ? spawn("sh", ["-c", `${command} & echo "PID $!"; exec sleep 600`], { env, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, ["--import", "tsx", "test/support/app-server.ts"], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  let resolvePid: (pid: number) => void = () => {};
  let resolveUrl: (url: string) => void = () => {};
  const pid = new Promise<number>((resolve) => (resolvePid = resolve));
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  if (!unreaped) resolvePid(child.pid!);
  const read = (chunk: Buffer) => {
    output += chunk.toString();
    const shellPid = /^PID (\d+)$/m.exec(output);
    if (shellPid) resolvePid(Number(shellPid[1]));
    const listening = /^LISTENING (\S+)$/m.exec(output);
    if (listening) resolveUrl(listening[1]!);
  };
  child.stdout!.on("data", read);
  child.stderr!.on("data", read);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const server = { pid: 0, url, output: () => output, exited };
  void pid.then((value) => (server.pid = value));
  return server;
}

/** Polls /api/ready until it answers 200; fails with what the server printed otherwise. */
async function ready(server: Server, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  void server.exited.then((code) => (exited = code));
  const url = await Promise.race([server.url, server.exited.then(() => "")]);
  let last = 0;
  while (url && exited === undefined && Date.now() < deadline) {
    last = await fetch(`${url}/api/ready`).then((r) => r.status, () => 0);
    if (last === 200) return url;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server not ready (last status ${last}, exit ${exited}):\n${server.output()}`);
}

/** Waits for the process to exit on its own; null if it is still running at the deadline. */
async function exitWithin(server: Server, ms: number): Promise<number | null | "running"> {
  return Promise.race([server.exited, new Promise<"running">((resolve) => setTimeout(() => resolve("running"), ms))]);
}

/** The state letter of /proc/<pid>/stat (R, S, Z…). */
const processState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
};

function seedApiKey(): string {
  const seeded = spawnSync(process.execPath, ["--import", "tsx", "bench/lib/seed-key.ts"], { env: serverEnv(), encoding: "utf8", timeout: 60_000 });
  expect(seeded.status, seeded.stderr).toBe(0);
  return (JSON.parse(seeded.stdout.trim().split("\n").at(-1)!) as { key: string }).key;
}

describe("a server killed mid-reply", () => {
  it("restarts at once while the killed process is a zombie, recovers the reply, and answers; a second server exits 1", async () => {
    const key = seedApiKey();
    const auth = { authorization: `Bearer ${key}` };
    const first = startServer(serverEnv(), { unreaped: true });
    const url = await ready(first);

    const response = await fetch(`${url}/api/v1/conversations`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai:gpt-4o-mini", first_message: "tell me a long story", stream: true }),
    });
    expect(response.status).toBe(201);
    let conversationId = "";
    let replyId = "";
    let deltas = 0;
    const reading = readSseEvents(response, (event) => {
      const meta = event.chunk.messageMetadata as { conversation_id?: string; assistant_message_id?: string } | undefined;
      if (event.chunk.type === "start") [conversationId, replyId] = [meta?.conversation_id ?? "", meta?.assistant_message_id ?? ""];
      if (event.chunk.type === "text-delta") deltas++;
    }).catch(() => null);
    // Long enough for a partial flush of the reply, far shorter than all of it (8 s).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(deltas).toBeGreaterThan(0);
    process.kill(first.pid, "SIGKILL");
    await reading;
    // What a supervisor sees in the second after a crash: the process is dead but not yet reaped.
    await expect.poll(() => processState(first.pid), { timeout: 5_000 }).toBe("Z");

    const second = startServer(serverEnv());
    const restarted = await ready(second);
    expect(processState(first.pid)).toBe("Z");
    const thread = await fetch(`${restarted}/api/v1/conversations/${conversationId}`, { headers: auth });
    expect(thread.status).toBe(200);
    const { messages } = (await thread.json()) as { messages: Array<{ id: string; status: string; content: string }> };
    const reply = messages.find((m) => m.id === replyId);
    expect(reply?.status).toBe("interrupted");
    expect(reply?.content).toMatch(/^word0 word1 word2/);
    expect(reply?.content).not.toContain("word199");

    if (!usesPostgres) {
      // The embedded database is held by the live second server: a third exits 1 and says why.
      const third = startServer(serverEnv());
      expect(await exitWithin(third, 60_000)).toBe(1);
      expect(third.output()).toContain(`is in use by process ${second.pid}`);
      expect((await fetch(`${restarted}/api/health`)).status).toBe(200);
    }
  }, 180_000);

  it("a server whose configuration is invalid exits 1 with the reason instead of answering 500", async () => {
    const server = startServer(serverEnv({ METRICS_TOKEN: "too-short" }));
    expect(await exitWithin(server, 60_000)).toBe(1);
    expect(server.output()).toContain("METRICS_TOKEN");
  }, 90_000);

  it.runIf(usesPostgres)("a server whose database cannot be reached exits 1 with the reason", async () => {
    const server = startServer(serverEnv({ DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" }));
    expect(await exitWithin(server, 60_000)).toBe(1);
    expect(server.output()).toContain("cannot start");
  }, 90_000);
});
