import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { env } from "@/lib/env";
import { log } from "@/lib/log";

/**
 * Extraction runs in child processes, not worker threads: a worker's heap limit does not bound
 * pdf.js's typed arrays (a 1 MB PDF took the server from 1.0 to 2.6 GB), and a worker that dies
 * of memory takes the whole process with it. Each child gets
 * - a hard memory limit: RLIMIT_DATA (`ulimit -d`, Linux), which bounds the V8 heap, ArrayBuffers
 *   and malloc alike (an allocation past it fails inside the child), unlike RLIMIT_AS, which V8's
 *   and wasm's large address-space reservations trip at start-up;
 * - a watchdog that reads the child's RSS from /proc and SIGKILLs it past the same limit, which
 *   also tells a memory kill apart from a crash;
 * - a deadline, after which it is killed;
 * - no environment variables, so a parser exploit finds no secrets.
 * Children stay warm between jobs (loading pdf.js is most of a small file's cost), and are
 * replaced after a failure, after a job that grew them past half the limit, or when idle.
 */

// Plain .mjs beside this file, loaded by path: the same file in dev, `next start`, the standalone
// image (traced via outputFileTracingIncludes) and tests.
const WORKER_PATH = path.join(process.cwd(), "lib", "retrieval", "ingest-worker.mjs");
const IDLE_MS = 60_000;
const WATCH_EVERY_MS = 100;
const STDERR_TAIL = 4096;

export type ExtractionFailure = {
  ok: false;
  code: string;
  message: string;
  /** The child died for no reason of ours (a crash, an outside kill): the document may be retried. */
  crashed?: boolean;
};
export type ExtractionResult = ({ ok: true } & Record<string, unknown>) | ExtractionFailure;

type ChildMessage = { id: number; type: "progress"; value: number } | ({ id: number; type: "done" } & Record<string, unknown>) | { id: number; type: "error"; code: string; message: string };

const MEMORY_FATAL = /out of memory|allocation failed|heap limit/i;

/** Reads a process's resident set size from /proc (Linux); undefined elsewhere or once it is gone. */
async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let warnedUnlimited = false;

function spawnChild(name: string, memoryLimitMb: number): ChildProcess {
  // V8's own heap limit below the process limit: most runaway heaps end as a clean V8 error.
  const args = [`--max-old-space-size=${Math.max(64, Math.floor(memoryLimitMb * 0.75))}`, WORKER_PATH, name];
  // No inherited environment: a parser exploit finds no secrets there.
  const options: SpawnOptions = { stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced", env: { NODE_ENV: env.NODE_ENV } };
  if (process.platform === "linux") {
    // `sh -c script $0 "$@"`: the limit, then the command; exec keeps the pid, so the watchdog and
    // kill() reach node itself. A lower hard limit already in place is kept (ulimit then fails).
    return spawn("/bin/sh", ["-c", 'ulimit -d "$0" 2>/dev/null; exec "$@"', String(memoryLimitMb * 1024), process.execPath, ...args], options);
  }
  if (!warnedUnlimited) {
    warnedUnlimited = true;
    log.warn({ platform: process.platform }, "document extraction memory is capped on Linux only; here only the V8 heap limit applies");
  }
  return spawn(process.execPath, args, options);
}

type Job = Record<string, unknown>;

/** One child process running one job at a time. */
class ExtractorSlot {
  private child: ChildProcess | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  /** The end of each child's stderr, always read (an unread pipe would block a chatty child). */
  private readonly stderr = new WeakMap<ChildProcess, string>();

  constructor(
    private readonly name: string,
    private readonly memoryLimitMb: number,
  ) {}

  /** The child's pid while it exists (tests kill it to play a crash). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): ChildProcess {
    const child = spawnChild(this.name, this.memoryLimitMb);
    // An idle child never keeps a process (a test run, the CLI) alive; a running job's timer does.
    child.unref();
    child.channel?.unref();
    child.on("error", (error) => log.error({ err: error, extractor: this.name }, "document extractor failed to start"));
    child.stderr?.on("data", (data: Buffer) => this.stderr.set(child, ((this.stderr.get(child) ?? "") + data.toString("utf8")).slice(-STDERR_TAIL)));
    child.on("exit", () => {
      if (this.child === child) this.child = null;
    });
    return child;
  }

  private stop(child: ChildProcess | null) {
    if (this.child === child) this.child = null;
    child?.kill("SIGKILL");
  }

  run(job: Job, timeoutMs: number, onProgress: (value: number) => void): Promise<ExtractionResult> {
    clearTimeout(this.idleTimer);
    const child = (this.child ??= this.start());
    const id = this.nextId++;
    this.stderr.set(child, "");
    let peakRss = 0;
    let reason: "timeout" | "memory" | undefined;
    const limitBytes = this.memoryLimitMb * 1024 * 1024;
    return new Promise<ExtractionResult>((resolve) => {
      let settled = false;
      const settle = (result: ExtractionResult, broken: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(watchdog);
        child.off("message", onMessage);
        child.off("close", onExit);
        child.off("error", onError);
        log.debug({ extractor: this.name, ok: result.ok, peak_rss_mb: Math.round(peakRss / 1048576) }, "document extractor job");
        if (broken || peakRss > limitBytes / 2) this.stop(child);
        else this.idleTimer = setTimeout(() => this.stop(child), IDLE_MS).unref();
        resolve(result);
      };
      const onMessage = (message: ChildMessage) => {
        if (message.id !== id) return;
        if (message.type === "progress") onProgress(message.value);
        else if (message.type === "done") settle({ ...message, ok: true }, false);
        else settle({ ok: false, code: message.code, message: message.message }, message.code === "document_too_complex");
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (reason === "timeout") return settle({ ok: false, code: "ingestion_timeout", message: `The document took longer than its ${Math.round(timeoutMs / 1000)} s limit to read.` }, true);
        const stderr = this.stderr.get(child) ?? "";
        if (reason === "memory" || MEMORY_FATAL.test(stderr)) {
          return settle({ ok: false, code: "document_too_complex", message: "The document needs more memory to read than the server allows." }, true);
        }
        log.warn({ extractor: this.name, exit_code: code, signal, stderr_tail: stderr.trim().split("\n").at(-1)?.slice(0, 200) }, "document extractor stopped mid-job");
        settle({ ok: false, code: "ingestion_failed", message: "The document processor stopped unexpectedly.", crashed: true }, true);
      };
      const onError = () => settle({ ok: false, code: "ingestion_failed", message: "The document processor could not be started.", crashed: true }, true);
      const kill = (why: "timeout" | "memory") => {
        reason ??= why;
        child.kill("SIGKILL");
      };
      const timer = setTimeout(() => kill("timeout"), timeoutMs);
      const watchdog = setInterval(() => {
        if (!child.pid) return;
        void residentBytes(child.pid).then((rss) => {
          if (rss === undefined) return;
          peakRss = Math.max(peakRss, rss);
          if (rss > limitBytes) kill("memory");
        });
      }, WATCH_EVERY_MS);
      watchdog.unref();
      child.on("message", onMessage);
      // `close`, not `exit`: by then the child's last stderr lines (a V8 out-of-memory report) are read.
      child.on("close", onExit);
      child.on("error", onError);
      if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode, child.signalCode);
      child.send({ ...job, id }, (error) => {
        if (error) onError();
      });
    });
  }
}

/** A fixed number of child processes; jobs beyond that wait their turn (first come, first served). */
export class ExtractorPool {
  private readonly free: ExtractorSlot[];
  private readonly busy = new Set<ExtractorSlot>();
  private readonly waiting: Array<(slot: ExtractorSlot) => void> = [];

  constructor(name: string, size: number, memoryLimitMb: number) {
    this.free = Array.from({ length: size }, () => new ExtractorSlot(name, memoryLimitMb));
  }

  /** Pids of the children running a job right now. */
  busyPids(): number[] {
    return [...this.busy].flatMap((slot) => (slot.pid ? [slot.pid] : []));
  }

  /** Runs `job` in a child; `timeoutMs` counts from now, waiting for a free child included. */
  async run(job: Job, timeoutMs: number, onProgress: (value: number) => void = () => {}): Promise<ExtractionResult> {
    const deadline = Date.now() + timeoutMs;
    const slot = this.free.pop() ?? (await this.wait(timeoutMs));
    if (!slot) return { ok: false, code: "ingestion_timeout", message: "No document processor became free in time." };
    this.busy.add(slot);
    try {
      return await slot.run(job, Math.max(1, deadline - Date.now()), onProgress);
    } finally {
      this.busy.delete(slot);
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }

  private wait(timeoutMs: number): Promise<ExtractorSlot | undefined> {
    return new Promise((resolve) => {
      const take = (slot: ExtractorSlot) => {
        clearTimeout(timer);
        resolve(slot);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.push(take);
    });
  }
}
