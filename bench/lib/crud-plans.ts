import pg from "pg";

/**
 * Query plans for the CRUD benchmark (bench/crud.ts): the SQL the app's own query functions send
 * (recorded by wrapping pg's Client#query while they run in-process), then EXPLAIN (ANALYZE,
 * BUFFERS) of each recorded SELECT with its real parameters.
 */

export type RecordedQuery = { text: string; values: unknown[] };

export type QueryPlan = {
  route: string;
  case: string;
  sql: string;
  params: unknown[];
  plan: string;
  top_node: string;
  indexes: string[];
  seq_scans: string[];
  /** A Sort node's key: the rows were sorted, not read in index order. */
  sort_key: string | null;
  execution_ms: number;
  shared_hit: number;
  shared_read: number;
};

type QueryFn = (...args: unknown[]) => unknown;

/** Runs `work` and returns every statement it sent through node-postgres. */
export async function recordQueries(work: () => Promise<unknown>): Promise<RecordedQuery[]> {
  const recorded: RecordedQuery[] = [];
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === "string") recorded.push({ text: first, values: Array.isArray(second) ? second : [] });
    else if (first && typeof first === "object" && "text" in first) {
      const q = first as { text: string; values?: unknown[] };
      recorded.push({ text: q.text, values: q.values ?? (Array.isArray(second) ? second : []) });
    }
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return recorded;
}

/** EXPLAIN (ANALYZE, BUFFERS) of each SELECT, run twice so the second (reported) finds a warm cache. */
export async function explainAll(url: string, route: string, label: string, queries: RecordedQuery[]): Promise<QueryPlan[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const plans: QueryPlan[] = [];
    for (const query of queries) {
      if (!/^\s*select\b/i.test(query.text)) continue;
      const sql = `explain (analyze, buffers) ${query.text}`;
      await db.query(sql, query.values);
      const { rows } = await db.query<{ "QUERY PLAN": string }>(sql, query.values);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      plans.push({ route, case: label, sql: query.text, params: query.values, plan, ...summarize(plan) });
    }
    return plans;
  } finally {
    await db.end();
  }
}

function summarize(plan: string) {
  const first = plan.split("\n")[0] ?? "";
  const buffers = /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(plan);
  return {
    top_node: first.replace(/\s*\(cost=.*$/, "").trim(),
    indexes: [...new Set([...plan.matchAll(/(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/g)].map((m) => m[1]!))],
    seq_scans: [...new Set([...plan.matchAll(/Seq Scan on (\S+)/g)].map((m) => m[1]!))],
    sort_key: /Sort Key: (.+)/.exec(plan)?.[1]?.trim() ?? null,
    execution_ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN),
    shared_hit: Number(buffers?.[1] ?? 0),
    shared_read: Number(buffers?.[2] ?? 0),
  };
}
