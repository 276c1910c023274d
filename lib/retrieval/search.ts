import { sql, type SQL } from "drizzle-orm";
import { isUuid } from "@/lib/api/pagination";
import { arrayLiteral, getDb, rowsOf, type Executor } from "@/lib/db/client";
import { rankByEmbedding, type BillTo } from "./embeddings";
import { log } from "@/lib/log";

/**
 * Chunk search over a conversation's documents: Okapi BM25 computed in SQL from the statistics
 * ingestion stores (documents.chunk_count/term_count, document_terms.df, document_chunks.term_count
 * and tsv), fused with embedding similarity by reciprocal rank fusion when embeddings are on.
 */

export type RetrievedChunk = {
  chunkId: string;
  documentId: string;
  filename: string;
  ord: number;
  content: string;
  pageStart: number;
  pageEnd: number;
  charStart: number;
  charEnd: number;
  /** The fused score when both rankings exist, otherwise the BM25 score. */
  score: number;
  lexicalScore: number | null;
  vectorScore: number | null;
};

// Anserini's BM25 parameters.
const BM25_K1 = 0.9;
const BM25_B = 0.4;
const RRF_K = 60;
/** A long query (a pasted page) keeps its most selective terms. */
const MAX_QUERY_TERMS = 64;
/**
 * Candidate budget, in postings: a twentieth of the searched chunks, within bounds. Terms are taken
 * rarest first while their postings fit; the commoner ones still score the candidates but bring
 * none of their own. Quality cost on SciFact: see bench/retrieval-quality.ts --budgets.
 */
export function candidateBudget(chunks: number): number {
  return Math.min(20_000, Math.max(500, Math.round(chunks / 20)));
}

/** How many candidates get their exact BM25; fewer than ~200 costs quality on SciFact. */
export function rescorePool(limit: number): number {
  return Math.max(200, 4 * limit);
}

export type QueryTerm = { term: string; qtf: number; df: number; idf: number };
/** What BM25 needs to know about the searched collection (the ready documents among the ids). */
export type CorpusStats = {
  documentIds: string[];
  n: number;
  avgdl: number;
  analysed: number;
  terms: QueryTerm[];
  /**
   * Σ idf over every analysed query term — what a chunk matching each once at average length
   * scores — with terms the documents never use counted like their rarest used one. Callers
   * judge relevance against it.
   */
  attainableScore: number;
};

/** Lucene's BM25 idf: never negative, even for a term in every chunk. */
export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** Quotes a lexeme for tsquery input so that no character in it is read as an operator. */
export function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * tf without unnesting positions: for a one-lexeme query, ts_rank with unit weights is H(tf) / H(∞)
 * where H(n) = Σ 1/j², j ≤ n (tsrank.c, calc_rank_or), strictly increasing in tf; so tf is the
 * number of midpoints between consecutive values at or below it (width_bucket). One C call per
 * term, exact for every tf a tsvector can hold (it keeps at most 255 positions per lexeme; tested).
 */
export const TF_THRESHOLDS = (() => {
  const h = [0];
  for (let n = 1; n <= 257; n++) h.push((h[n - 1] ?? 0) + 1 / (n * n));
  return arrayLiteral(h.slice(0, 257).map((v, n) => ((v + (h[n + 1] ?? 0)) / 2 / 1.64493406685).toPrecision(12)));
})();

/** Collection statistics over the ready documents among `ids`, and the analysed query terms. */
async function loadStats(tx: Executor, ids: string[], query: string): Promise<CorpusStats> {
  const result = await tx.execute(sql`
    with docs as (
      select id, chunk_count, term_count from documents where id = any(${arrayLiteral(ids)}::uuid[]) and status = 'ready'
    ), q as (
      select u.lexeme as term, coalesce(array_length(u.positions, 1), 1) as qtf from unnest(to_tsvector('english', ${query})) u
    ), df as (
      select t.term, sum(t.df)::float8 as df from document_terms t
      where t.document_id = any(array(select id from docs)) and t.term = any(array(select term from q))
      group by t.term
    )
    select
      (select coalesce(json_agg(id), '[]'::json) from docs) as ids,
      (select coalesce(sum(chunk_count), 0)::float8 from docs) as n,
      (select coalesce(sum(term_count), 0)::float8 from docs) as total,
      (select coalesce(json_agg(json_build_object('term', q.term, 'qtf', q.qtf, 'df', coalesce(df.df, 0))), '[]'::json)
        from q left join df on df.term = q.term) as terms`);
  type Row = { ids: string[]; n: number; total: number; terms: Array<{ term: string; qtf: number; df: number }> };
  const row = rowsOf<Row>(result)[0];
  const n = Number(row?.n ?? 0);
  const present = (row?.terms ?? [])
    .filter((t) => t.df > 0)
    .map((t) => ({ term: t.term, qtf: Number(t.qtf), df: Number(t.df), idf: bm25Idf(n, Number(t.df)) }))
    .sort((a, b) => a.df - b.df || (a.term < b.term ? -1 : 1));
  const analysed = row?.terms.length ?? 0;
  const maxIdf = Math.max(0, ...present.map((t) => t.idf));
  const attainableScore = present.reduce((sum, t) => sum + t.idf, 0) + (analysed - present.length) * maxIdf;
  return {
    documentIds: row?.ids ?? [],
    n,
    avgdl: n > 0 ? Number(row?.total ?? 0) / n : 0,
    analysed,
    terms: present.slice(0, MAX_QUERY_TERMS),
    attainableScore,
  };
}

/** The rarest terms whose postings fit the budget (at least one): they generate the candidates. */
export function candidateTerms(terms: QueryTerm[], budget: number): QueryTerm[] {
  const chosen: QueryTerm[] = [];
  let postings = 0;
  for (const t of terms) {
    if (chosen.length > 0 && postings + t.df > budget) break;
    chosen.push(t);
    postings += t.df;
  }
  return chosen;
}

type Hit = { id: string; score: number };
type ChunkFields = Omit<RetrievedChunk, "score" | "lexicalScore" | "vectorScore">;
type ChunkRow = { id: string; document_id: string; filename: string; ord: number; content: string; page_start: number; page_end: number; char_start: number; char_end: number };

const chunkColumns = sql`c.id, c.document_id, d.filename, c.ord, c.content, c.page_start, c.page_end, c.char_start, c.char_end`;

function toChunk(r: ChunkRow): ChunkFields {
  return {
    chunkId: r.id,
    documentId: r.document_id,
    filename: r.filename,
    ord: r.ord,
    content: r.content,
    pageStart: r.page_start,
    pageEnd: r.page_end,
    charStart: r.char_start,
    charEnd: r.char_end,
  };
}

/**
 * BM25 = Σ qtf·idf·(k1+1)·tf / (tf + k1·(1 − b + b·dl/avgdl)) over the query terms, tf being the
 * positions of the term in the chunk's tsvector and dl the chunk's term_count.
 *
 * Reading a chunk's tsvector (a TOAST fetch) is what costs, so few chunks are read:
 * 1. candidates: the postings of the rarest terms within the budget, from the GIN index one term
 *    at a time (no tsvector read), ranked by BM25 as if each matched term occurred once;
 * 2. the best `pool` of them get their exact BM25 over all the query terms.
 */
async function rankLexical(tx: Executor, stats: CorpusStats, limit: number, budget: number, pool: number): Promise<Array<Hit & ChunkFields>> {
  const { terms, avgdl } = stats;
  if (terms.length === 0 || avgdl <= 0 || stats.documentIds.length === 0) return [];
  const weight = (t: QueryTerm) => t.qtf * t.idf * (BM25_K1 + 1);
  const norm = (termCount: SQL) => sql`${BM25_K1}::float8 * (1 - ${BM25_B}::float8 + ${BM25_B}::float8 * ${termCount} / ${avgdl}::float8)`;
  // Not indexable on purpose: postings come from the GIN index, never from reading all the documents' chunks.
  const inDocuments = sql`coalesce(document_id = any(${arrayLiteral(stats.documentIds)}::uuid[]), false)`;
  const seeds = candidateTerms(terms, budget);
  // Even the rarest term is too common for the budget: `budget` of its postings, whichever come first.
  const cap = seeds.length === 1 && (seeds[0]?.df ?? 0) > budget ? sql`limit ${budget}` : sql``;
  const postings = sql.join(
    seeds.map((t) => sql`(select id, term_count, ${weight(t)}::float8 as w from document_chunks where tsv @@ ${quoteLexeme(t.term)}::tsquery and ${inDocuments} ${cap})`),
    sql` union all `,
  );
  const contributions = sql.join(
    terms.map((t) => {
      const tf = sql`width_bucket(ts_rank('{1,1,1,1}', h.v, ${quoteLexeme(t.term)}::tsquery, 0)::float8, ${TF_THRESHOLDS}::float8[])`;
      // tf / (tf + norm), written with tf once.
      return sql`${weight(t)}::float8 * (1 - h.norm / (${tf} + h.norm))`;
    }),
    sql` + `,
  );
  const result = await tx.execute(sql`
    with candidates as (
      select id from (${postings}) p
      group by id, term_count
      order by sum(w) / (1 + ${norm(sql`term_count`)}) desc, id
      limit ${pool}
    ), ranked as (
      select c.id, (${contributions})::float8 as score
      from candidates k
      join document_chunks c on c.id = k.id
      cross join lateral (
        -- The tsvector read once, cut to the query's lexemes (setweight marks them, ts_filter keeps them).
        select ts_filter(setweight(c.tsv, 'A', ${arrayLiteral(terms.map((t) => t.term))}::text[]), '{a}') as v, ${norm(sql`c.term_count`)} as norm
        offset 0
      ) h
      order by score desc, c.id
      limit ${limit}
    )
    select ${chunkColumns}, r.score
    from ranked r join document_chunks c on c.id = r.id join documents d on d.id = c.document_id
    order by r.score desc, c.id`);
  return rowsOf<ChunkRow & { score: number }>(result).map((r) => ({ ...toChunk(r), id: r.id, score: Number(r.score) }));
}

async function loadChunks(db: Executor, chunkIds: string[]): Promise<ChunkFields[]> {
  if (chunkIds.length === 0) return [];
  const result = await db.execute(sql`
    select ${chunkColumns} from document_chunks c join documents d on d.id = c.document_id
    where c.id = any(${arrayLiteral(chunkIds)}::uuid[])`);
  return rowsOf<ChunkRow>(result).map(toChunk);
}

/**
 * After a document's chunks are stored: moves the GIN index's pending entries (where fast-update
 * inserts land) into the index proper. Every search scans the pending list once per query term;
 * autovacuum empties it on a server, but PGlite has no autovacuum. Best effort.
 */
export async function settleSearchIndex(): Promise<void> {
  try {
    await (await getDb()).execute(sql`select gin_clean_pending_list('document_chunks_tsv_idx'::regclass)`);
  } catch (error) {
    log.warn({ err: error }, "could not clean the search index's pending list");
  }
}

/** Reciprocal rank fusion: each ranking adds 1 / (k + rank) to its items. */
export function fuseRankings(rankings: string[][], k = RRF_K): Map<string, number> {
  const fused = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => fused.set(id, (fused.get(id) ?? 0) + 1 / (k + index + 1)));
  }
  return fused;
}

/**
 * The chunks of the given documents that best match `query`, best first. Callers have checked
 * ownership; documents that are not `ready` are skipped. A query with no searchable terms (empty,
 * or stop words only) returns []. `candidatePostings` overrides the candidate budget (benchmarks).
 */
export async function searchChunks(
  input: { documentIds: string[]; query: string; limit: number },
  options: { candidatePostings?: number; rescored?: number } = {},
): Promise<RetrievedChunk[]> {
  return (await searchChunksWithStats(input, options)).chunks;
}

/** hybrid: the query's embedding ranked chunks too (fused with BM25); lexical: BM25 alone. */
export type RetrievalMode = "hybrid" | "lexical";

/** searchChunks, plus the query's attainable BM25 score (for relevance thresholds) and how it ranked. */
export async function searchChunksWithStats(
  input: { documentIds: string[]; query: string; limit: number; billTo?: BillTo },
  options: { candidatePostings?: number; rescored?: number } = {},
): Promise<{ chunks: RetrievedChunk[]; attainableScore: number; mode: RetrievalMode }> {
  const ids = [...new Set(input.documentIds.filter(isUuid))];
  const limit = Math.max(0, Math.floor(input.limit));
  if (ids.length === 0 || limit === 0 || !input.query.trim()) return { chunks: [], attainableScore: 0, mode: "lexical" };
  const db = await getDb();
  const vectorRanking = rankByEmbedding({ documentIds: ids, query: input.query, limit, billTo: input.billTo });
  const { stats, lexical } = await db.transaction(async (tx) => {
    // The planner prices a sequential scan without the TOAST read each tsvector costs: here the GIN
    // and primary-key indexes are always the better path. Parallel workers take longer to start
    // than these queries take to run.
    await tx.execute(sql`set local enable_seqscan = off`);
    await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
    const stats = await loadStats(tx, ids, input.query);
    const budget = options.candidatePostings ?? candidateBudget(stats.n);
    return { stats, lexical: await rankLexical(tx, stats, limit, budget, options.rescored ?? rescorePool(limit)) };
  });
  const vector = await vectorRanking;
  const mode: RetrievalMode = vector && vector.length > 0 ? "hybrid" : "lexical";
  if (stats.analysed === 0) return { chunks: [], attainableScore: 0, mode };
  const lexicalScores = new Map(lexical.map((h) => [h.id, h.score]));
  const vectorScores = new Map((vector ?? []).map((h) => [h.id, h.score]));
  // Hybrid: every score is the fused one, so scores stay comparable within a result list.
  let order: Hit[] = lexical;
  if (vector && mode === "hybrid") {
    order = [...fuseRankings([lexical.map((h) => h.id), vector.map((h) => h.id)])]
      .map(([id, score]) => ({ id, score }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }
  const chunks = new Map<string, ChunkFields>(lexical.map((h) => [h.id, h]));
  for (const chunk of await loadChunks(db, order.filter((o) => !chunks.has(o.id)).map((o) => o.id))) chunks.set(chunk.chunkId, chunk);
  const results = order.flatMap((o) => {
    const chunk = chunks.get(o.id);
    if (!chunk) return [];
    const { chunkId, documentId, filename, ord, content, pageStart, pageEnd, charStart, charEnd } = chunk;
    return [{ chunkId, documentId, filename, ord, content, pageStart, pageEnd, charStart, charEnd, score: o.score, lexicalScore: lexicalScores.get(o.id) ?? null, vectorScore: vectorScores.get(o.id) ?? null }];
  });
  return { chunks: results, attainableScore: stats.attainableScore, mode };
}

