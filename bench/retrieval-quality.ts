/**
 * Retrieval quality and latency benchmark.
 *
 *   npx tsx bench/retrieval-quality.ts [--quick] [--db pglite|postgres] [--url postgres://…]
 *     [--data ../shared/data/beir-scifact] [--documents 1] [--no-quality] [--no-latency]
 *     [--sizes 10000,100000] [--runs 3] [--budgets default,250,1000] [--rescored 200] [--vacuum] [--tsv-storage main]
 *
 * Quality: BEIR SciFact (test split). Every abstract (title + "\n" + text) is one chunk, stored
 * through the same completeDocument path as uploads (in one document, or spread round-robin over
 * --documents N: BM25's statistics are summed per document, so the scores must not change); each
 * test query goes through searchChunks. Reports nDCG@10, recall@10, recall@100 and MRR@10 (trec_eval
 * definitions) and latency. --budgets sweeps searchChunks' candidate budget (default: its own).
 * Latency: synthetic corpora (SciFact texts repeated, documents of 1,000 chunks), every test query
 * searched over all of them, then 10 of those documents inside the whole table.
 * What-ifs, off by default: --vacuum (VACUUM ANALYZE after loading instead of ANALYZE) and
 * --tsv-storage main (keep tsvectors in the row, not in TOAST).
 *
 * --db postgres uses a scratch database (default bot_gpt_bench_retrieval on the local server), dropped and
 * recreated on each run. Prints a ScenarioOutput (bench/lib/report.ts) on stdout; progress goes to stderr.
 */
import fs from "node:fs";
import path from "node:path";
import { Bm25Reference, parseTsvector } from "./lib/bm25-reference";
import { mean, mrrAt, ndcgAt, percentile, recallAt, round } from "./lib/metrics";
import { prose, random } from "./lib/prose";
import { emit, goal, median, type GoalResult, type Table } from "./lib/report";
import { loadSciFact, type CorpusDoc } from "./lib/scifact";
import { configureDatabase, dbChoice, flag, log, type DbChoice } from "./lib/setup";

type Options = {
  choice: DbChoice;
  data: string;
  quick: boolean;
  quality: boolean;
  latency: boolean;
  documents: number;
  sizes: number[];
  budgets: Array<number | undefined>;
  rescored: number | undefined;
  vacuum: boolean;
  tsvStorageMain: boolean;
  /** Passes over the query set for latency (each pass's percentiles; the median is reported). */
  runs: number;
};

function parseArgs(argv: string[]): Options {
  const numbers = (name: string) => flag(argv, name)?.split(",").map(Number);
  const quick = argv.includes("--quick");
  const rescored = flag(argv, "--rescored");
  return {
    choice: dbChoice(argv, "bot_gpt_bench_retrieval"),
    data: path.resolve(flag(argv, "--data") ?? path.resolve(process.cwd(), "../shared/data/beir-scifact")),
    quick,
    quality: !argv.includes("--no-quality"),
    latency: !argv.includes("--no-latency"),
    documents: Number(flag(argv, "--documents") ?? 1),
    sizes: numbers("--sizes") ?? (quick ? [10_000] : [10_000, 100_000]),
    budgets: flag(argv, "--budgets")?.split(",").map((v) => (v === "default" ? undefined : Number(v))) ?? [undefined],
    rescored: rescored ? Number(rescored) : undefined,
    vacuum: argv.includes("--vacuum"),
    tsvStorageMain: flag(argv, "--tsv-storage") === "main",
    runs: Number(flag(argv, "--runs") ?? (quick ? 1 : 3)),
  };
}

/** Stand-in corpus when SciFact is absent: scripted prose documents and questions (no judgements). */
function generatedCorpus(): { corpus: CorpusDoc[]; queries: Array<{ id: string; text: string }>; qrels: Map<string, Map<string, number>> } {
  const next = random(5);
  const corpus = Array.from({ length: 5_000 }, (_, i) => ({ id: `g${i}`, title: prose(next, 8), text: prose(next, 180) }));
  const queries = Array.from({ length: 300 }, (_, i) => ({ id: `q${i}`, text: prose(next, 12) }));
  return { corpus, queries, qrels: new Map() };
}

type Timing = { p50_ms: number; p95_ms: number; p99_ms: number; max_ms: number };

const timing = (times: number[]) => ({ p50_ms: round(percentile(times, 50), 2), p95_ms: round(percentile(times, 95), 2), max_ms: round(Math.max(...times), 2) });

async function main() {
  const options = parseArgs(process.argv.slice(2));
  // Embeddings off: this measures BM25 (and the mock has no meaningful vectors for SciFact anyway).
  await configureDatabase(options.choice, { EMBEDDING_MODEL: "" });

  const { getDb, closeDb, getHandle } = await import("@/lib/db/client");
  const { createDocument, completeDocument } = await import("@/lib/db/queries/documents");
  const { createUser } = await import("@/lib/db/queries/users");
  const { searchChunks, settleSearchIndex } = await import("@/lib/retrieval/search");
  const { sql } = await import("drizzle-orm");
  const handle = await getHandle();
  const db = await getDb();
  // SciFact lives beside the checkout (../shared/data); without it, latency runs on generated prose
  // and quality is skipped in a quick run (CI keeps the script working) and refused in a full one.
  const hasData = fs.existsSync(path.join(options.data, "corpus.jsonl"));
  if (!hasData && options.quality && !options.quick) throw new Error(`BEIR SciFact not found at ${options.data} (pass --data <dir>)`);
  const scifact = hasData ? loadSciFact(options.data) : generatedCorpus();
  const queries = options.quick ? scifact.queries.slice(0, 100) : scifact.queries;
  if (!hasData) log(`SciFact not found at ${options.data}: latency on generated text${options.quality ? ", quality skipped" : ""}`);
  options.quality &&= hasData;
  const contentOf = (d: CorpusDoc) => `${d.title}\n${d.text}`;
  const report: Record<string, unknown> = { db: handle.driver, queries: queries.length, what_ifs: { vacuum: options.vacuum, tsv_storage_main: options.tsvStorageMain } };
  if (options.tsvStorageMain) await db.execute(sql`alter table document_chunks alter column tsv set storage main`);

  const user = await createUser({ email: `bench-${Date.now()}@example.test`, password: "bench password 123" });

  /** One document holding `contents` as consecutive chunks. */
  async function addDocument(name: string, contents: string[]): Promise<string> {
    const { document } = await createDocument({ userId: user.id, filename: name, mimeType: "text/plain", bytes: Buffer.from(`${name}\n${contents.length}`) });
    await completeDocument({
      id: document.id,
      pages: 1,
      onProgress: () => {},
      chunks: contents.map((content) => ({ content, pageStart: 1, pageEnd: 1, charStart: 0, charEnd: content.length, tokenCount: Math.ceil(content.length / 4) })),
    });
    await settleSearchIndex(); // as the ingestion queue does after completeDocument
    return document.id;
  }

  const settle = () => (options.vacuum ? db.execute(sql`vacuum analyze`) : db.execute(sql`analyze`));

  async function timeQueries(documentIds: string[], limit: number, budget?: number) {
    const search = (query: string) => searchChunks({ documentIds, query, limit }, { candidatePostings: budget, rescored: options.rescored });
    for (const q of queries.slice(0, 10)) await search(q.text); // warm-up
    const passes: Timing[] = [];
    for (let pass = 0; pass < options.runs; pass++) {
      const times: number[] = [];
      for (const q of queries) {
        const started = performance.now();
        await search(q.text);
        times.push(performance.now() - started);
      }
      passes.push({ ...timing(times), p99_ms: round(percentile(times, 99), 2) });
    }
    const mid = (pick: (t: Timing) => number) => round(median(passes.map(pick)), 2);
    return { p50_ms: mid((t) => t.p50_ms), p95_ms: mid((t) => t.p95_ms), p99_ms: mid((t) => t.p99_ms), max_ms: Math.max(...passes.map((t) => t.max_ms)), passes };
  }

  let quality: { runs: Array<{ candidate_budget: number | string; ndcg_at_10: number; recall_at_10: number; recall_at_100: number; mrr_at_10: number; latency_limit_10: { p95_ms: number } }>; exactness: { reference_ndcg_at_10: number } } | null = null;
  let latencyReport: Record<string, { limit_10: Timing; limit_100?: Timing }> | null = null;
  if (options.quality) {
    const started = performance.now();
    // Corpus doc i goes to document i mod N, as its (i div N)-th chunk.
    const groups = Array.from({ length: options.documents }, (_, g) => scifact.corpus.filter((_, i) => i % options.documents === g));
    const corpusIdOf = new Map<string, string>();
    const documentIds: string[] = [];
    for (const [g, docs] of groups.entries()) {
      const id = await addDocument(`scifact-${g}.txt`, docs.map(contentOf));
      docs.forEach((d, ord) => corpusIdOf.set(`${id}:${ord}`, d.id));
      documentIds.push(id);
    }
    await settle();
    const ingestSeconds = (performance.now() - started) / 1000;
    /**
     * searchChunks against an in-memory BM25 over the same stored tsvectors: with budget and rescoring
     * pool unbounded the top 10 must be the same chunks with the same scores; with the defaults, how
     * much of the exact top 10 survives the candidate pruning.
     */
    async function checkExactness(ids: string[]) {
      const rows = await db.execute(sql`select document_id, ord, term_count, tsv::text as tsv from document_chunks where document_id = any(${`{${ids.join(",")}}`}::uuid[])`);
      const chunks = (rows as unknown as { rows: Array<{ document_id: string; ord: number; term_count: number; tsv: string }> }).rows.map((r) => ({
        key: `${r.document_id}:${r.ord}`,
        length: r.term_count,
        tf: parseTsvector(r.tsv),
      }));
      const lengthMismatches = chunks.filter((c) => [...c.tf.values()].reduce((a, b) => a + b, 0) !== c.length).length;
      const reference = new Bm25Reference(chunks);
      let maxScoreDiff = 0;
      let identical = 0;
      const overlap: number[] = [];
      const referenceNdcg: number[] = [];
      for (const q of queries) {
        const analysed = await db.execute(sql`select lexeme, coalesce(array_length(positions, 1), 1) as qtf from unnest(to_tsvector('english', ${q.text}))`);
        const terms = new Map((analysed as unknown as { rows: Array<{ lexeme: string; qtf: number }> }).rows.map((r) => [r.lexeme, Number(r.qtf)]));
        const expected = reference.search(terms, 10);
        referenceNdcg.push(ndcgAt(expected.map((e) => corpusIdOf.get(e.key) ?? ""), scifact.qrels.get(q.id) ?? new Map(), 10));
        const exact = await searchChunks({ documentIds: ids, query: q.text, limit: 10 }, { candidatePostings: 1e9, rescored: 1e9 });
        const diffs = expected.map((e, i) => Math.abs(e.score - (exact[i]?.lexicalScore ?? Infinity)));
        maxScoreDiff = Math.max(maxScoreDiff, ...diffs, exact.length === expected.length ? 0 : Infinity);
        if (diffs.every((d) => d < 1e-9)) identical += 1;
        const pruned = await searchChunks({ documentIds: ids, query: q.text, limit: 10 });
        const wanted = new Set(expected.map((e) => e.key));
        overlap.push(expected.length === 0 ? 1 : pruned.filter((h) => wanted.has(`${h.documentId}:${h.ord}`)).length / expected.length);
      }
      return {
        term_count_mismatches: lengthMismatches,
        reference_ndcg_at_10: round(mean(referenceNdcg)),
        exhaustive_identical_top10_share: round(identical / queries.length),
        exhaustive_max_score_diff: maxScoreDiff,
        default_overlap_with_exact_top10: round(mean(overlap)),
      };
    }

    const runs = [];
    for (const budget of options.budgets) {
      const ndcg10: number[] = [];
      const recall10: number[] = [];
      const recall100: number[] = [];
      const mrr10: number[] = [];
      const ndcg10Top10: number[] = [];
      const times100: number[] = [];
      const times10: number[] = [];
      for (const q of queries) {
        const judged = scifact.qrels.get(q.id) ?? new Map<string, number>();
        const rankingOf = async (limit: number, times: number[]) => {
          const t0 = performance.now();
          const hits = await searchChunks({ documentIds, query: q.text, limit }, { candidatePostings: budget, rescored: options.rescored });
          times.push(performance.now() - t0);
          return hits.map((h) => corpusIdOf.get(`${h.documentId}:${h.ord}`) ?? "");
        };
        const ranking = await rankingOf(100, times100);
        ndcg10.push(ndcgAt(ranking, judged, 10));
        recall10.push(recallAt(ranking, judged, 10));
        recall100.push(recallAt(ranking, judged, 100));
        mrr10.push(mrrAt(ranking, judged, 10));
        // As the chat asks: only the top few, so fewer candidates get their exact score.
        ndcg10Top10.push(ndcgAt(await rankingOf(10, times10), judged, 10));
      }
      const run = {
        candidate_budget: budget ?? "default",
        ndcg_at_10: round(mean(ndcg10)),
        recall_at_10: round(mean(recall10)),
        recall_at_100: round(mean(recall100)),
        mrr_at_10: round(mean(mrr10)),
        ndcg_at_10_with_limit_10: round(mean(ndcg10Top10)),
        latency_limit_100: timing(times100),
        latency_limit_10: timing(times10),
      };
      log(`scifact: ${JSON.stringify(run)}`);
      runs.push(run);
    }
    quality = { runs, exactness: await checkExactness(documentIds) };
    report.scifact = {
      chunks: scifact.corpus.length,
      documents: options.documents,
      ingest_seconds: round(ingestSeconds, 1),
      runs,
      exactness: quality.exactness,
      reference: { anserini_bm25_flat_ndcg_at_10: 0.679 },
    };
  }

  if (options.latency) {
    const texts = scifact.corpus.map(contentOf);
    const perDocument = 1_000;
    const documents: string[] = [];
    const latency: Record<string, { limit_10: Timing; limit_100?: Timing }> = {};
    for (const size of options.sizes) {
      const started = performance.now();
      while (documents.length * perDocument < size) {
        const n = documents.length;
        documents.push(await addDocument(`synthetic-${n}.txt`, Array.from({ length: perDocument }, (_, j) => texts[(n * perDocument + j) % texts.length] ?? "")));
      }
      await settle();
      log(`latency: ${size} chunks ready in ${round((performance.now() - started) / 1000, 1)} s`);
      const ids = documents.slice(0, size / perDocument);
      latency[`chunks_${size}`] = { limit_10: await timeQueries(ids, 10), limit_100: await timeQueries(ids, 100) };
      log(`latency ${size}: ${JSON.stringify(latency[`chunks_${size}`])}`);
    }
    if (documents.length > 10) {
      // One conversation's 10k chunks inside a larger table: scoping must keep it fast.
      latency[`chunks_10000_of_${documents.length * perDocument}`] = { limit_10: await timeQueries(documents.slice(0, 10), 10) };
    }
    report.latency = latency;
    latencyReport = latency;
  }

  await db.execute(sql`delete from users where id = ${user.id}`);
  await closeDb();

  const dbName = handle.driver === "pglite" ? "PGlite" : "Postgres";
  const goals: GoalResult[] = [];
  const tables: Table[] = [];
  const methods: string[] = [];
  if (quality) {
    const run = quality.runs[0]!;
    methods.push(
      `Quality: BEIR SciFact test split (${queries.length} queries; read from ${path.relative(process.cwd(), options.data) || options.data}, never copied); every abstract (title + text) is one chunk stored through the upload path, ` +
        `each query through searchChunks on ${dbName}; trec_eval definitions of nDCG@10, recall@10 and MRR@10. Anserini's flat BM25 scores nDCG@10 0.679; ` +
        "an exhaustive BM25 over the same stored tsvectors (bench/lib/bm25-reference.ts) is the in-house reference.",
    );
    goals.push(goal("SciFact nDCG@10 vs Anserini BM25 0.679", run.ndcg_at_10, { within: [0.679, 0.01] }, "", { note: `exhaustive BM25 reference: ${quality.exactness.reference_ndcg_at_10}` }));
    tables.push({
      title: `BEIR SciFact, ${dbName}`,
      columns: ["ranker", "nDCG@10", "recall@10", "recall@100", "MRR@10"],
      rows: [
        ...quality.runs.map((r) => [`BOT GPT BM25${r.candidate_budget === "default" ? "" : ` (budget ${r.candidate_budget})`}`, r.ndcg_at_10, r.recall_at_10, r.recall_at_100, r.mrr_at_10]),
        ["exhaustive BM25 reference (same tsvectors)", quality.exactness.reference_ndcg_at_10, null, null, null],
        ["Anserini BM25 flat (published)", 0.679, null, null, null],
      ],
    });
  }
  if (latencyReport) {
    methods.push(
      `Latency: synthetic corpora of ${options.sizes.map((n) => n.toLocaleString("en-US")).join(" and ")} chunks (${hasData ? "SciFact abstracts" : "generated prose"} repeated, documents of 1,000 chunks) on ${dbName}; ` +
        `every one of ${queries.length} queries searched over all of them (top 10 as the chat asks, and top 100), ${options.runs} pass(es), per-pass percentiles, median over passes.`,
    );
    const targets: Record<number, number> = { 10_000: 20, 100_000: 100 };
    for (const size of options.sizes) {
      const t = latencyReport[`chunks_${size}`];
      if (t && targets[size] !== undefined) goals.push(goal(`retrieval p95, ${size.toLocaleString("en-US")} chunks, ${dbName}`, t.limit_10.p95_ms, { lte: targets[size] }, "ms"));
    }
    tables.push({
      title: `Retrieval latency, ${dbName} (ms)`,
      columns: ["corpus", "top", "p50", "p95", "p99", "max"],
      rows: Object.entries(latencyReport).flatMap(([key, t]) => {
        const label = key.replace(/^chunks_(\d+)_of_(\d+)$/, "a conversation's $1 chunks inside $2").replace(/^chunks_(\d+)$/, (_, n: string) => `${Number(n).toLocaleString("en-US")} chunks`);
        return [
          [label, 10, t.limit_10.p50_ms, t.limit_10.p95_ms, t.limit_10.p99_ms, t.limit_10.max_ms],
          ...(t.limit_100 ? [[label, 100, t.limit_100.p50_ms, t.limit_100.p95_ms, t.limit_100.p99_ms, t.limit_100.max_ms]] : []),
        ];
      }),
    });
  }
  if (!hasData && options.quick && !options.latency) methods.push(`SciFact not found at ${options.data}: quality skipped in this quick run.`);
  emit({ benchmark: quality ? "retrieval-quality" : "retrieval-latency", method: methods.join(" "), quick: options.quick, runs: options.runs, goals, tables, details: report });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
