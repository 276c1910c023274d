import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { belowWrappers } from "./proc";

/**
 * Real app processes for the benchmarks and the chaos and scale-out checks: `next start` on
 * loopback (the production build), killed with SIGKILL like a crashed container, restarted under
 * the same INSTANCE_ID. With `workers`, the app starts as `npm start` does in production, with
 * WEB_CONCURRENCY=<workers> (cluster workers sharing the port on Postgres, where the start script
 * supports it; until then the same single process).
 */

const root = path.resolve(import.meta.dirname, "../..");

/** Builds the app unless a production build is already there. */
export function ensureBuild(log: (m: string) => void): void {
  if (existsSync(path.join(root, ".next", "BUILD_ID"))) return;
  log("no production build: running `next build` (a few minutes)…");
  const result = spawnSync("npx", ["next", "build"], { cwd: root, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) throw new Error("next build failed");
}

export class AppProcess {
  private child: ChildProcess | null = null;
  private output = "";
  readonly url: string;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly options: { workers?: number; nodeArgs?: string[] } = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** The root of the app's process tree (its workers and children are below it), under npm's wrappers. */
  get pid(): number | null {
    const root = this.child?.pid;
    if (!root) return null;
    return this.options.workers === undefined ? root : belowWrappers(root);
  }

  /**
   * `next start` itself (with `nodeArgs`, e.g. the CPU profiler's flags, which Node does not take
   * from NODE_OPTIONS), or the package's start script (`npm start`) when workers are asked for.
   */
  private command(): string[] {
    const { workers, nodeArgs = [] } = this.options;
    if (workers === undefined) {
      return [...nodeArgs, path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(this.port), "-H", "127.0.0.1"];
    }
    if (nodeArgs.length) throw new Error("nodeArgs apply to a single `next start`, not to workers started by npm start");
    const npmCli = path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
    return [npmCli, "start", "--silent"];
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.output = "";
    const { workers } = this.options;
    // Its own process group, so a kill reaches the server and nothing else.
    const child = spawn(process.execPath, this.command(), {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
        PORT: String(this.port),
        HOSTNAME: "127.0.0.1",
        ...(workers === undefined ? {} : { WEB_CONCURRENCY: String(workers) }),
        ...this.env,
      },
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`app on :${this.port} exited during start:\n${this.output}`);
      const ready = await fetch(`${this.url}/api/ready`).then((r) => r.ok, () => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`app on :${this.port} not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** `kill -9`: no shutdown hooks, no final writes. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGKILL");
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    await stopProcessGroup(this.child, 10_000);
    this.child = null;
  }

  /** The last lines the process wrote (for reports when something fails). */
  tail(lines = 30): string {
    return this.output.split("\n").slice(-lines).join("\n");
  }
}

/** SIGTERM to a detached child's process group, SIGKILL if it has not exited after `graceMs`. */
export async function stopProcessGroup(child: ChildProcess | null, graceMs: number): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const pid = child.pid;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-pid, "SIGTERM");
  const timer = setTimeout(() => process.kill(-pid, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
