import os from "node:os";
import { createRequire } from "node:module";
import { machineCpu, PostgresCpu, cpuBetween, treeCpu } from "./proc";

/**
 * What a window of load cost: the app's and the mock's CPU (their whole process trees, from
 * /proc), the CPU of the Postgres backends serving the bench database, the SQL statements the app
 * counted, and how busy the machine was meanwhile. Used by bench/turn-cost.ts and bench/users.ts.
 */

export type WindowCost = {
  wallMs: number;
  appCpuMs: number;
  mockCpuMs: number;
  postgresCpuMs: number;
  postgresBackends: number;
  /** Statements the app counted (botgpt_db_statements_total); null when the app has no such counter. */
  statements: number | null;
  /** Share of all cores busy over the window, whoever ran (0–1). */
  machineBusy: number;
  loadAverage1m: number;
};

/** The counter the statement-counting wrapper around the database driver exports. */
export const STATEMENTS_METRIC = "botgpt_db_statements_total";

/** The sum over every series of `name` on /api/metrics, or null when the app does not export it. */
export async function scrapeCounter(appUrl: string, token: string, name = STATEMENTS_METRIC): Promise<number | null> {
  const res = await fetch(`${appUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`/api/metrics: HTTP ${res.status}`);
  const text = await res.text();
  const series = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "gm"))];
  return series.length ? series.reduce((sum, m) => sum + Number(m[1]), 0) : null;
}

export type CostProbe = { appPid: number; mockPid: number | null; postgres: PostgresCpu | null; appUrl: string; metricsToken: string };

/**
 * Runs `work` and measures what it cost. The statement counter is read outside the CPU window
 * (a scrape is a request the app serves), so the window holds only the work.
 */
export async function measureWindow<T>(probe: CostProbe, work: () => Promise<T>): Promise<{ result: T; cost: WindowCost }> {
  const statementsBefore = await scrapeCounter(probe.appUrl, probe.metricsToken);
  const app0 = treeCpu(probe.appPid);
  const mock0 = probe.mockPid ? treeCpu(probe.mockPid) : new Map<number, number>();
  const machine0 = machineCpu();
  await probe.postgres?.start();
  const started = performance.now();
  const result = await work();
  const wallMs = performance.now() - started;
  const pg = (await probe.postgres?.stop()) ?? { cpuMs: 0, backends: 0 };
  const machine1 = machineCpu();
  const appCpuMs = cpuBetween(app0, treeCpu(probe.appPid));
  const mockCpuMs = probe.mockPid ? cpuBetween(mock0, treeCpu(probe.mockPid)) : 0;
  const statementsAfter = await scrapeCounter(probe.appUrl, probe.metricsToken);
  const total = machine1.totalMs - machine0.totalMs;
  return {
    result,
    cost: {
      wallMs,
      appCpuMs,
      mockCpuMs,
      postgresCpuMs: pg.cpuMs,
      postgresBackends: pg.backends,
      statements: statementsBefore === null || statementsAfter === null ? null : statementsAfter - statementsBefore,
      machineBusy: total > 0 ? 1 - (machine1.idleMs - machine0.idleMs) / total : NaN,
      loadAverage1m: os.loadavg()[0] ?? NaN,
    },
  };
}

type AutocannonResult = { requests: { total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number; timeouts: number };
const autocannon = createRequire(import.meta.url)("autocannon") as (options: Record<string, unknown>) => Promise<AutocannonResult>;

/** `amount` GETs of `url` one after another (autocannon, one connection): the no-op route's cost. */
export async function sequentialGets(url: string, amount: number): Promise<{ requests: number; p50: number; p99: number; failures: number }> {
  const result = await autocannon({ url, connections: 1, amount, timeout: 10 });
  return { requests: result.requests.total, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts };
}
