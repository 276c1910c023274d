import { createHash } from "node:crypto";
import os from "node:os";
import pg from "pg";
import { median, round } from "./report";

/**
 * The machine's own floor, measured at the start and end of `npm run bench`: how long a fixed CPU
 * task takes and how long Postgres and PGlite take to answer `select 1`. In-process scenarios
 * (retrieval, ingestion, context) have no mock LLM to calibrate against; these probes say how busy
 * the machine was while they ran, so two runs can be compared by ratio.
 */
export type Calibration = {
  at: string;
  load_average_1m: number;
  /** SHA-256 over 32 MiB, median of 5 (ms). */
  cpu_sha256_32mib_ms: number;
  /** Round trip of `select 1` on a warm connection, 500 queries (ms). */
  postgres_select1_p50_ms: number | null;
  postgres_select1_p99_ms: number | null;
  pglite_select1_p50_ms: number;
  pglite_select1_p99_ms: number;
  /** Event-loop delay of this idle process over 1 s (ms). */
  idle_timer_lag_p99_ms: number;
};

const nearestRank = (sample: number[], p: number) => {
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};

function cpuProbe(): number {
  const block = Buffer.alloc(32 * 1024 * 1024, 7);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    createHash("sha256").update(block).digest();
    times.push(performance.now() - started);
  }
  return round(median(times), 1);
}

async function selectOneTimes(query: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 50; i++) await query();
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    await query();
    times.push(performance.now() - started);
  }
  return times;
}

async function timerLag(): Promise<number> {
  const lags: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
    lags.push(performance.now() - started - 10);
  }
  return round(nearestRank(lags, 99), 2);
}

export async function calibrate(postgresUrl: string | null): Promise<Calibration> {
  let postgres: number[] | null = null;
  if (postgresUrl) {
    const client = new pg.Client({ connectionString: postgresUrl });
    try {
      await client.connect();
      postgres = await selectOneTimes(() => client.query("select 1"));
    } catch {
      postgres = null; // reported as null: the Postgres scenarios will say why they failed
    } finally {
      await client.end().catch(() => {});
    }
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const lite = await PGlite.create();
  const pglite = await selectOneTimes(() => lite.query("select 1"));
  await lite.close();
  return {
    at: new Date().toISOString(),
    load_average_1m: round(os.loadavg()[0] ?? 0, 2),
    cpu_sha256_32mib_ms: cpuProbe(),
    postgres_select1_p50_ms: postgres ? round(nearestRank(postgres, 50), 3) : null,
    postgres_select1_p99_ms: postgres ? round(nearestRank(postgres, 99), 3) : null,
    pglite_select1_p50_ms: round(nearestRank(pglite, 50), 3),
    pglite_select1_p99_ms: round(nearestRank(pglite, 99), 3),
    idle_timer_lag_p99_ms: await timerLag(),
  };
}
