import type { Calibration } from "./calibrate";

/**
 * The shape every scenario script prints on stdout (one JSON object) and `npm run bench`
 * (bench/run.ts) collects into bench/results/<date>.json and renders into docs/benchmarks.md.
 * Scripts log progress on stderr only.
 */

export type Comparison = "<=" | ">=" | "within";

/** One promised figure: what was measured against the goal. */
export type GoalResult = {
  /** Short label, e.g. "TTFT overhead p99, 50 concurrent, Postgres". */
  name: string;
  measured: number;
  goal: number;
  /** "<=": measured must not exceed goal; ">=": must reach it; "within": |measured − goal| ≤ tolerance. */
  comparison: Comparison;
  tolerance?: number;
  unit: string;
  met: boolean;
  /** The same measurement straight against the mock LLM (or the machine's floor), when one applies. */
  calibration?: number;
  /** measured ÷ calibration. */
  ratio?: number;
  note?: string;
};

/** A table for the readable report: the first row of cells lines up with `columns`. */
export type Table = { title: string; columns: string[]; rows: Array<Array<string | number | null>>; note?: string };

/**
 * A headline figure followed from run to run: docs/benchmarks.md sets each one beside the same
 * figure in a baseline results file (the "before" of a change) when there is one.
 */
export type Figure = {
  name: string;
  value: number | null;
  unit: string;
  /** The goal as written, e.g. "≤ 17.9 ms (0.6 × the peer's 29.9)". */
  goal?: string;
  /** The same measurement without the app (the mock alone, the no-op route), when one applies. */
  calibration?: number | null;
  /** 1-minute load average while it was measured (median over runs): the machine is shared. */
  load?: number;
  note?: string;
};

export type ScenarioOutput = {
  benchmark: string;
  /** Human-readable: what was measured and how (a paragraph for docs/benchmarks.md). */
  method: string;
  quick: boolean;
  runs: number;
  goals: GoalResult[];
  tables: Table[];
  /** Headline figures for the before/after table (bench/lib/render.ts). */
  figures?: Figure[];
  /** Everything else worth keeping (per-run figures, query plans, settings). */
  details?: Record<string, unknown>;
};

export type ScenarioRecord = { status: "ok"; seconds: number; output: ScenarioOutput } | { status: "failed"; seconds: number; error: string };

/** bench/results/<date>.json: one `npm run bench`. */
export type BenchResults = {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpu_model: string; memory_gib: number; os: string; node: string; postgres: string | null };
  command: string;
  calibration: { before: Calibration; after: Calibration | null };
  /** Keyed by scenario id, in the order they ran. */
  scenarios: Record<string, ScenarioRecord & { scenario?: number; title?: string }>;
  seconds: number;
};

export function goal(
  name: string,
  measured: number,
  target: { lte?: number; gte?: number; within?: [number, number] },
  unit: string,
  extra: { calibration?: number; note?: string } = {},
): GoalResult {
  const base = { name, measured: round(measured), unit, ...extra };
  const ratio = extra.calibration !== undefined && extra.calibration > 0 ? round(measured / extra.calibration, 2) : undefined;
  if (target.lte !== undefined) return { ...base, goal: target.lte, comparison: "<=", met: measured <= target.lte, ratio };
  if (target.gte !== undefined) return { ...base, goal: target.gte, comparison: ">=", met: measured >= target.gte, ratio };
  const [value, tolerance] = target.within!;
  return { ...base, goal: value, comparison: "within", tolerance, met: Math.abs(measured - value) <= tolerance, ratio };
}

export const round = (value: number, digits = 3) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/** Median of per-run values (the figure reported when a scenario runs several times). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints the scenario's result as the one JSON object on stdout. */
export function emit(output: ScenarioOutput): void {
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
}
