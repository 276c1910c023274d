import { sql } from "drizzle-orm";
import { isUuid } from "@/lib/api/pagination";
import { getDb, type Db, type Executor } from "@/lib/db/client";
import { rankByEmbedding } from "./embeddings";

/**
 * Chunk search over a conversation's documents: Okapi BM25 computed in SQL from the statistics
 * ingestion stores (documents.chunk_count/term_count, document_terms.df, document_chunks.term_count
 * and tsv), optionally fused with embedding similarity by reciprocal rank fusion.
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
  /** Fused score when both rankings exist, otherwise the BM25 score. */
  score: number;
  lexicalScore: number | null;
  vectorScore: number | null;
};

// Anserini's defaults for BM25.
export const BM25_K1 = 0.9;
export const BM25_B = 0.4;
const RRF_K = 60;
/** Long queries (a pasted page) keep their most selective terms only. */
const MAX_QUERY_TERMS = 64;
/**
 * Candidate generation budget, in postings. Terms are taken rarest first while their summed
 * document frequency stays under it; the commoner terms still score every candidate, they just do
 * not add candidates of their own (a chunk matching only very common terms rarely makes the top).
 */
export const CANDIDATE_POSTINGS = 8_000;

type Rows<T> = { rows: T[] };
const rowsOf = <T>(result: unknown): T[] => (result as Rows<T>).rows;

export type QueryTerm = { term: string; qtf: number; df: number; idf: number };
/** What BM25 needs to know about the searched collection (the ready documents among the ids). */
export type CorpusStats = { documentIds: string[]; n: number; avgdl: number; analysed: number; terms: QueryTerm[] };

/** Lucene's BM25 idf: never negative, even for a term in every chunk. */
export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** Quotes a lexeme for tsquery input so that no character in it is read as an operator. */
export function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** A Postgres array literal; every element quoted, so any text is safe inside it. */
function arrayLiteral(values: Array<string | number>): string {
  return `{${values.map((v) => (typeof v === "number" ? String(v) : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;
}

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
  const terms = (row?.terms ?? [])
    .filter((t) => t.df > 0)
    .map((t) => ({ term: t.term, qtf: Number(t.qtf), df: Number(t.df), idf: bm25Idf(n, Number(t.df)) }))
    .sort((a, b) => a.df - b.df || (a.term < b.term ? -1 : 1))
    .slice(0, MAX_QUERY_TERMS);
  return { documentIds: row?.ids ?? [], n, avgdl: n > 0 ? Number(row?.total ?? 0) / n : 0, analysed: row?.terms.length ?? 0, terms };
}

/** The rarest terms whose postings fit the budget (at least one): they generate the candidates. */
export function candidateTerms(terms: QueryTerm[], budget = CANDIDATE_POSTINGS): QueryTerm[] {
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

/**
 * BM25 over the candidates: Σ qtf·idf·tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)), with tf the
 * number of positions of the term in the chunk's tsvector and dl the chunk's term_count.
 */
async function rankLexical(tx: Executor, stats: CorpusStats, limit: number, budget: number): Promise<Hit[]> {
  const { terms, avgdl } = stats;
  if (terms.length === 0 || avgdl <= 0 || stats.documentIds.length === 0) return [];
  const tsquery = candidateTerms(terms, budget).map((t) => quoteLexeme(t.term)).join(" | ");
  const lexemes = arrayLiteral(terms.map((t) => t.term));
  const weights = arrayLiteral(terms.map((t) => t.qtf * t.idf * (BM25_K1 + 1)));
  const result = await tx.execute(sql`
    select c.id, (
      -- setweight marks the query's lexemes and ts_filter keeps only them: tf without unnesting the whole chunk.
      select sum((${weights}::float8[])[array_position(${lexemes}::text[], u.lexeme)] * u.tf
        / (u.tf + ${BM25_K1}::float8 * (1 - ${BM25_B}::float8 + ${BM25_B}::float8 * c.term_count / ${avgdl}::float8)))
      from (select lexeme, coalesce(array_length(positions, 1), 1)::float8 as tf from unnest(ts_filter(setweight(c.tsv, 'A', ${lexemes}::text[]), '{a}'))) u
    ) as score
    from document_chunks c
    where c.document_id = any(${arrayLiteral(stats.documentIds)}::uuid[]) and c.tsv @@ ${tsquery}::tsquery
    order by score desc, c.id
    limit ${limit}`);
  return rowsOf<Hit>(result).map((r) => ({ id: r.id, score: Number(r.score) }));
}

async function loadChunks(db: Executor, chunkIds: string[]) {
  if (chunkIds.length === 0) return new Map<string, Omit<RetrievedChunk, "score" | "lexicalScore" | "vectorScore">>();
  const result = await db.execute(sql`
    select c.id, c.document_id, d.filename, c.ord, c.content, c.page_start, c.page_end, c.char_start, c.char_end
    from document_chunks c join documents d on d.id = c.document_id
    where c.id = any(${arrayLiteral(chunkIds)}::uuid[])`);
  type Row = { id: string; document_id: string; filename: string; ord: number; content: string; page_start: number; page_end: number; char_start: number; char_end: number };
  return new Map(
    rowsOf<Row>(result).map((r) => [
      r.id,
      {
        chunkId: r.id,
        documentId: r.document_id,
        filename: r.filename,
        ord: r.ord,
        content: r.content,
        pageStart: r.page_start,
        pageEnd: r.page_end,
        charStart: r.char_start,
        charEnd: r.char_end,
      },
    ]),
  );
}

/** Reciprocal rank fusion of two rankings (ids best first). */
export function fuseRankings(rankings: string[][], k = RRF_K): Map<string, number> {
  const fused = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => fused.set(id, (fused.get(id) ?? 0) + 1 / (k + index + 1)));
  }
  return fused;
}

/**
 * The chunks of the given documents that best match `query`. Callers have checked ownership;
 * documents that are not `ready` are skipped. A query with no searchable terms returns [].
 */
export async function searchChunks(
  input: { documentIds: string[]; query: string; limit: number },
  options: { candidatePostings?: number } = {},
): Promise<RetrievedChunk[]> {
  const ids = [...new Set(input.documentIds.filter(isUuid))];
  const limit = Math.max(0, Math.floor(input.limit));
  if (ids.length === 0 || limit === 0 || !input.query.trim()) return [];
  const db = await getDb();
  const vectorRanking = rankByEmbedding({ documentIds: ids, query: input.query, limit });
  const { stats, lexical } = await db.transaction(async (tx) => {
    // The planner costs a sequential scan without the TOAST reads it implies; on these tables
    // the GIN and primary-key indexes are always the better path.
    await tx.execute(sql`set local enable_seqscan = off`);
    const stats = await loadStats(tx, ids, input.query);
    return { stats, lexical: await rankLexical(tx, stats, limit, options.candidatePostings ?? CANDIDATE_POSTINGS) };
  });
  if (stats.analysed === 0) return [];
  const vector = await vectorRanking;
  const lexicalScores = new Map(lexical.map((h) => [h.id, h.score]));
  const vectorScores = new Map((vector ?? []).map((h) => [h.id, h.score]));
  let order: Array<{ id: string; score: number }>;
  if (vector && vector.length > 0 && lexical.length > 0) {
    const fused = fuseRankings([lexical.map((h) => h.id), vector.map((h) => h.id)]);
    order = [...fused].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  } else if (lexical.length > 0) {
    order = lexical;
  } else {
    order = vector ?? [];
  }
  order = order.slice(0, limit);
  const chunks = await loadChunks(db, order.map((o) => o.id));
  return order.flatMap((o) => {
    const chunk = chunks.get(o.id);
    if (!chunk) return [];
    return [{ ...chunk, score: o.score, lexicalScore: lexicalScores.get(o.id) ?? null, vectorScore: vectorScores.get(o.id) ?? null }];
  });
}
