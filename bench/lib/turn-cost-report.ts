import type { WindowCost } from "./cost";
import { goal, median, round, type Figure, type GoalResult, type ScenarioOutput, type Table } from "./report";

/**
 * The report of bench/turn-cost.ts: medians over rounds of each window's figures, the goals of
 * issue 18 (the peer's figures it names, measured on this kind of machine) and the tables.
 */

export type Phase = {
  label: string;
  requests: number;
  failures: number;
  /** Time to the first text chunk (stream phases) or to the whole response (the no-op route), ms. */
  firstTextP50: number;
  firstTextP99: number;
  cost: WindowCost;
  dropReasons?: Record<string, number>;
};
export type Round = { run: number; phases: Partial<Record<PhaseId, Phase>> };
type PhaseId = "mock_1" | "noop_1" | "new_1" | "followup_1" | "mock_50" | "new_50";

/** The peer's figures in issue 18 (vercel/ai-chatbot on this machine kind, Postgres 15). */
export const PEER = { cpuPerTurnMs: 29.9, firstText50P50Ms: 1_034, turnsPerSecond50: 26.9, rssMb: 370 } as const;

export const perReq = (phase: Phase, field: "appCpuMs" | "mockCpuMs" | "postgresCpuMs" | "statements") => {
  const value = phase.cost[field];
  return value === null || phase.requests === 0 ? NaN : value / phase.requests;
};

type Input = {
  quick: boolean;
  runs: number;
  workers: number | undefined;
  rounds: Round[];
  memory: { turns: number; idleMb: number; peakMb: number; afterMb: number; load: number; dropped: number } | null;
  model: Record<string, unknown>;
  reply: string;
  oneAtATime: number;
  healthRequests: number;
  perWorker50: number;
  metric: string;
};

export function turnCostReport(input: Input): ScenarioOutput {
  const { rounds } = input;
  const med = (id: PhaseId, f: (p: Phase) => number) => {
    const values = rounds.map((r) => r.phases[id]).filter((p): p is Phase => !!p).map(f).filter(Number.isFinite);
    return values.length ? round(median(values), 3) : NaN;
  };
  const load = (id: PhaseId) => round(med(id, (p) => p.cost.loadAverage1m), 2);
  const rate = (p: Phase) => p.requests / (p.cost.wallMs / 1000);
  const statementsMissing = rounds.some((r) => Object.values(r.phases).some((p) => p && p.label !== "mock_1" && p.label !== "mock_50" && p.cost.statements === null));
  const num = (v: number) => (Number.isFinite(v) ? v : null);

  const cpuNew = med("new_1", (p) => perReq(p, "appCpuMs"));
  const cpuFollow = med("followup_1", (p) => perReq(p, "appCpuMs"));
  const cpuNoop = med("noop_1", (p) => perReq(p, "appCpuMs"));
  const cpuMock = med("mock_1", (p) => perReq(p, "mockCpuMs"));
  const pgNew = med("new_1", (p) => perReq(p, "postgresCpuMs"));
  const pgFollow = med("followup_1", (p) => perReq(p, "postgresCpuMs"));
  const stNew = med("new_1", (p) => perReq(p, "statements"));
  const stFollow = med("followup_1", (p) => perReq(p, "statements"));
  const p50New = med("new_1", (p) => p.firstTextP50);
  const p99New = med("new_1", (p) => p.firstTextP99);
  const p50Mock = med("mock_1", (p) => p.firstTextP50);
  const p99Mock = med("mock_1", (p) => p.firstTextP99);
  const p50At50 = med("new_50", (p) => p.firstTextP50);
  const p99At50 = med("new_50", (p) => p.firstTextP99);
  const rateAt50 = med("new_50", rate);
  const mockP50At50 = med("mock_50", (p) => p.firstTextP50);
  const mockRateAt50 = med("mock_50", rate);
  const cpuAt50 = med("new_50", (p) => perReq(p, "appCpuMs"));
  const pgAt50 = med("new_50", (p) => perReq(p, "postgresCpuMs"));
  const stAt50 = med("new_50", (p) => perReq(p, "statements"));
  const failures = rounds.reduce((n, r) => n + Object.values(r.phases).reduce((m, p) => m + (p?.failures ?? 0), 0), 0);
  const mem = input.memory;
  const shape = input.workers ? `${input.workers} workers` : "one process";
  const missing = statementsMissing ? `the app exports no ${input.metric} counter in this build` : undefined;

  const figures: Figure[] = [
    { name: "app CPU per turn, new conversation, 1 at a time", value: num(cpuNew), unit: "ms", goal: `≤ ${round(PEER.cpuPerTurnMs * 0.6, 1)} ms (0.6 × the peer's ${PEER.cpuPerTurnMs})`, calibration: num(cpuMock), load: load("new_1"), note: "calibration: the mock's CPU per streamed request" },
    { name: "app CPU per turn, follow-up message, 1 at a time", value: num(cpuFollow), unit: "ms", calibration: num(cpuMock), load: load("followup_1") },
    { name: "app CPU per no-op request (GET /api/health)", value: num(cpuNoop), unit: "ms", load: load("noop_1") },
    { name: "mock LLM CPU per streamed request (calibration)", value: num(cpuMock), unit: "ms", load: load("mock_1") },
    { name: "app CPU per turn ÷ no-op request", value: num(round(cpuNew / cpuNoop, 2)), unit: "×", load: load("new_1") },
    { name: "Postgres CPU per turn, new conversation", value: num(pgNew), unit: "ms", goal: "peer 6.4 ms (issue 18)", load: load("new_1") },
    { name: "Postgres CPU per turn, follow-up message", value: num(pgFollow), unit: "ms", load: load("followup_1") },
    { name: "SQL statements per turn, new conversation", value: num(stNew), unit: "", goal: "≤ 6", note: missing },
    { name: "SQL statements per turn, follow-up message", value: num(stFollow), unit: "", goal: "≤ 5", note: missing },
    { name: "first text p50, 1 at a time", value: num(p50New), unit: "ms", calibration: num(p50Mock), load: load("new_1") },
    { name: "first text p99, 1 at a time", value: num(p99New), unit: "ms", calibration: num(p99Mock), load: load("new_1") },
    { name: `first text p50, 50 at once (${shape})`, value: num(p50At50), unit: "ms", goal: `≤ ${round(PEER.firstText50P50Ms * 0.7, 0)} ms (0.7 × the peer's ${PEER.firstText50P50Ms})`, calibration: num(mockP50At50), load: load("new_50") },
    { name: `first text p99, 50 at once (${shape})`, value: num(p99At50), unit: "ms", calibration: num(med("mock_50", (p) => p.firstTextP99)), load: load("new_50") },
    { name: `turns/s, 50 at once (${shape})`, value: num(rateAt50), unit: "turns/s", goal: `≥ ${round(PEER.turnsPerSecond50 * 1.5, 1)} (1.5 × the peer's ${PEER.turnsPerSecond50})`, calibration: num(mockRateAt50), load: load("new_50") },
    { name: `app CPU per turn, 50 at once (${shape})`, value: num(cpuAt50), unit: "ms", load: load("new_50") },
    { name: `Postgres CPU per turn, 50 at once (${shape})`, value: num(pgAt50), unit: "ms", load: load("new_50") },
    { name: `SQL statements per turn, 50 at once (${shape})`, value: num(stAt50), unit: "", note: missing },
    { name: `RSS after ${mem?.turns ?? 1_000} turns (${shape})`, value: mem ? round(mem.afterMb, 1) : null, unit: "MB", goal: `≤ ${PEER.rssMb} MB (the peer's)`, calibration: mem ? round(mem.idleMb, 1) : null, load: mem ? round(mem.load, 2) : undefined, note: "calibration: the fresh process before the turns" },
    { name: `RSS peak during ${mem?.turns ?? 1_000} turns (${shape})`, value: mem ? round(mem.peakMb, 1) : null, unit: "MB", load: mem ? round(mem.load, 2) : undefined },
  ];
  if (statementsMissing) figures.push({ name: "statement counter", value: null, unit: "", note: missing });

  const goals: GoalResult[] = [];
  if (Number.isFinite(cpuNew)) goals.push(goal("app CPU per turn, 1 at a time (new conversation, Postgres)", cpuNew, { lte: round(PEER.cpuPerTurnMs * 0.6, 1) }, "ms", { calibration: cpuMock, note: `0.6 × the peer's ${PEER.cpuPerTurnMs} ms; no-op route ${cpuNoop} ms; calibration: the mock's CPU per streamed request; load ${load("new_1")}` }));
  if (Number.isFinite(stNew)) goals.push(goal("SQL statements per turn, new conversation", stNew, { lte: 6 }, ""));
  if (Number.isFinite(stFollow)) goals.push(goal("SQL statements per turn, follow-up message", stFollow, { lte: 5 }, ""));
  if (Number.isFinite(p50At50)) goals.push(goal(`first text p50, 50 at once (${shape})`, p50At50, { lte: round(PEER.firstText50P50Ms * 0.7, 0) }, "ms", { calibration: mockP50At50, note: `0.7 × the peer's ${PEER.firstText50P50Ms} ms; load ${load("new_50")}` }));
  if (Number.isFinite(rateAt50)) goals.push(goal(`turns/s, 50 at once (${shape})`, rateAt50, { gte: round(PEER.turnsPerSecond50 * 1.5, 1) }, "turns/s", { calibration: mockRateAt50, note: `1.5 × the peer's ${PEER.turnsPerSecond50}; calibration: the mock alone at 50 at once` }));
  if (mem) goals.push(goal(`RSS after ${mem.turns} turns (${shape})`, mem.afterMb, { lte: PEER.rssMb }, "MB", { calibration: round(mem.idleMb, 1), note: `peak ${round(mem.peakMb, 1)} MB; calibration: the fresh process` }));
  goals.push(goal("failed or short turns, every window", failures, { lte: 0 }, "turns"));

  const row = (id: PhaseId, label: string): Table["rows"][number] => [
    label,
    med(id, (p) => p.requests),
    med(id, (p) => p.firstTextP50),
    med(id, (p) => p.firstTextP99),
    med(id, rate),
    med(id, (p) => perReq(p, "appCpuMs")),
    med(id, (p) => perReq(p, "mockCpuMs")),
    med(id, (p) => perReq(p, "postgresCpuMs")),
    id.startsWith("mock") ? null : med(id, (p) => perReq(p, "statements")),
    med(id, (p) => p.cost.machineBusy * 100),
    load(id),
  ];
  const table: Table = {
    title: `Cost per request, interleaved windows (median of ${rounds.length} round(s); Postgres; ${shape})`,
    columns: ["window", "requests", "first text p50 ms", "p99 ms", "per s", "app CPU ms/req", "mock CPU ms/req", "Postgres CPU ms/req", "statements/req", "machine busy %", "load 1m"],
    rows: [
      row("mock_1", "calibration: the mock alone, 1 at a time"),
      row("noop_1", "no-op route GET /api/health, 1 at a time (latency: whole response)"),
      row("new_1", "new conversation + first message, 1 at a time"),
      row("followup_1", "follow-up message, 1 at a time"),
      row("mock_50", "calibration: the mock alone, 50 at once"),
      row("new_50", "new conversation + first message, 50 at once"),
    ],
    note: missing ? `Statements: ${missing} (–).` : undefined,
  };
  const memoryTable: Table | null = mem
    ? { title: `Memory: a fresh app, ${mem.turns} turns 50 at once (${shape})`, columns: ["RSS idle MB", "RSS peak MB", "RSS after MB", "dropped", "load 1m"], rows: [[round(mem.idleMb, 1), round(mem.peakMb, 1), round(mem.afterMb, 1), mem.dropped, round(mem.load, 2)]] }
    : null;

  return {
    benchmark: "turn-cost",
    method:
      `One \`next start\` (${input.workers ? `\`npm start\` with WEB_CONCURRENCY=${input.workers}` : "a single process"}) on Postgres, no Redis, response cache off, no budgets; the mock LLM (test/mock-llm) in its own process sends the first text at once and one word per 10 ms of a ${input.reply.split(" ").length}-word reply (“${input.reply}”), the issue's set-up. ` +
      `Turns are streamed over the public API with a Bearer key: a new conversation with its first message (POST /api/v1/conversations {first_message, stream: true}) or a follow-up (POST /api/v1/conversations/{id}/messages), driven by bench/lib/stream-load.ts in its own process (first text = request sent → first text-delta event). ` +
      `Each round runs, one after the other: the mock alone serving the app's exact provider request ${input.oneAtATime} times (calibration), ${input.healthRequests} GET /api/health one at a time (autocannon; the no-op route), ${input.oneAtATime} new-conversation turns and ${input.oneAtATime} follow-ups one at a time, then 50 workers × ${input.perWorker50} turns straight at the mock and through the app. ` +
      `CPU: user + system time of every process in the app's tree and the mock's tree (/proc/<pid>/stat, before and after the window) and of the Postgres backends connected to the bench database (pg_stat_activity pids, polled every 200 ms; a backend that appears in the window counts from zero), divided by the requests served. ` +
      `Statements: the app's ${input.metric} counter on /api/metrics, read before and after each window (with several workers, whichever worker answers the scrape unless the app aggregates them). ` +
      `Memory: a fresh app, RSS of its process tree every 250 ms while ${input.memory?.turns ?? 1_000} new-conversation turns run 50 at once, and 2 s after. Every figure is the median over ${rounds.length} round(s); the 1-minute load average is noted beside it (the machine is shared). ` +
      `Goals are issue 18's, relative to the peer (vercel/ai-chatbot) as the issue measured it on this machine kind: this scenario does not run the peer.`,
    quick: input.quick,
    runs: rounds.length,
    goals,
    tables: [table, ...(memoryTable ? [memoryTable] : [])],
    figures,
    details: { model: input.model, workers: input.workers ?? null, rounds, memory: input.memory },
  };
}
