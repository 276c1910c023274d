import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import pg from "pg";

/**
 * What the kernel says a process costs, read from /proc (Linux): the CPU time (user + system) and
 * RSS of a process tree, the machine's idle share, and the CPU of the Postgres backends serving one
 * database. Counters, not samples of a profiler: a delta over a window is exactly what ran.
 */

/** Clock ticks per second of /proc/<pid>/stat's utime/stime (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is state. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // the process ended while we looked
  }
}

/** utime + stime of one process, in ms (fields 14 and 15 of stat; 11 and 12 after the name). */
export function cpuMsOf(pid: number): number | null {
  const f = statFields(pid);
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS : null;
}

/** Each process's children, from every /proc/<pid>/stat's parent pid. */
function childMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  return children;
}

/**
 * The server under `npm start`'s wrappers (npm's own node process, the shell running the script):
 * production images run the server directly, so the wrappers' memory is not the app's.
 */
export function belowWrappers(pid: number): number {
  const children = childMap();
  let current = pid;
  for (;;) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${current}/cmdline`, "utf8").split("\0");
    } catch {
      return current;
    }
    // npm retitles its process "npm start"; the shell keeps its name.
    const wrapper = /^npm( |$)/.test(args[0] ?? "") || args.some((a) => a.endsWith("npm-cli.js")) || /(^|\/)(sh|bash|dash)$/.test(args[0] ?? "");
    const kids = children.get(current) ?? [];
    if (!wrapper || kids.length !== 1) return current;
    current = kids[0]!;
  }
}

/** Every pid in the tree rooted at `pid`. */
export function processTree(pid: number): number[] {
  const children = childMap();
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** CPU ms of every process now in the tree, by pid. */
export function treeCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of processTree(pid)) {
    const ms = cpuMsOf(p);
    if (ms !== null) out.set(p, ms);
  }
  return out;
}

/**
 * CPU spent by a process tree between two readings: processes present at both count their
 * difference, processes born in between count all they used (their start-up is part of the work).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (match) kb += Number(match[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** Samples the RSS of a process tree every `everyMs`; `stop()` returns the samples (MB). */
export function sampleRss(pid: number, everyMs = 250): { stop: () => number[]; now: () => number } {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssMb(pid)), everyMs);
  return {
    now: () => rssMb(pid),
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/** The whole machine's CPU counters from /proc/stat (ms summed over all cores). */
export function machineCpu(): { totalMs: number; idleMs: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line as [number, number, number, number, number, number, number, number];
  const toMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS;
  return { totalMs: toMs(user + nice + system + idle + iowait + irq + softirq + (steal ?? 0)), idleMs: toMs(idle + iowait) };
}

/**
 * The CPU of the Postgres backends connected to one database (the app's pool), from /proc. The
 * pool opens and closes connections as load changes, so the backends are polled: each pid's last
 * reading is kept, and a backend that appears mid-window counts from zero (its fork is work done
 * for the load). A backend that exits loses at most one poll interval of CPU. Postgres must run
 * on this machine (loopback), as the bench's does.
 */
export class PostgresCpu {
  private client: pg.Client | null = null;
  private readings = new Map<number, { first: number; last: number }>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();

  /** `adminUrl` must name another database than `database`, so this connection is not counted. */
  constructor(
    private readonly adminUrl: string,
    private readonly database: string,
  ) {}

  async open(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.adminUrl });
    await this.client.connect();
  }

  private async backends(): Promise<number[]> {
    const { rows } = await this.client!.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [this.database]);
    return rows.map((r) => r.pid);
  }

  private async poll(baseline: boolean): Promise<void> {
    for (const pid of await this.backends()) {
      const ms = cpuMsOf(pid);
      if (ms === null) continue;
      const seen = this.readings.get(pid);
      if (seen) seen.last = ms;
      else this.readings.set(pid, { first: baseline ? ms : 0, last: ms });
    }
  }

  /** Starts a window: current backends are the baseline; polls every `everyMs`. */
  async start(everyMs = 200): Promise<void> {
    this.readings.clear();
    await this.poll(true);
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll(false)).catch(() => {});
    }, everyMs);
  }

  /** Ends the window; returns the backends' CPU ms in it and how many backends took part. */
  async stop(): Promise<{ cpuMs: number; backends: number }> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await this.poll(false);
    let cpuMs = 0;
    let backends = 0;
    for (const r of this.readings.values()) {
      if (r.last > r.first) backends++;
      cpuMs += r.last - r.first;
    }
    return { cpuMs, backends };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.client?.end().catch(() => {});
  }
}
