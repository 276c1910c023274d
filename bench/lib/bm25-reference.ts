/**
 * A plain in-memory BM25 over the very tsvectors Postgres stored: the reference searchChunks'
 * SQL is checked against (same analysis, so any difference is in the scoring).
 */

export type IndexedChunk = { key: string; length: number; tf: Map<string, number> };

/** Parses tsvector output (`'lexeme':1,5 'other':3`) into term frequencies. */
export function parseTsvector(text: string): Map<string, number> {
  const tf = new Map<string, number>();
  const entry = /'((?:[^']|'')*)'(?::([0-9A-D,]+))?/g;
  let match: RegExpExecArray | null;
  while ((match = entry.exec(text)) !== null) {
    const lexeme = (match[1] ?? "").replace(/''/g, "'").replace(/\\(.)/g, "$1");
    tf.set(lexeme, match[2] ? match[2].split(",").length : 1);
  }
  return tf;
}

export class Bm25Reference {
  private readonly df = new Map<string, number>();
  private readonly avgdl: number;

  constructor(
    private readonly chunks: IndexedChunk[],
    private readonly k1 = 0.9,
    private readonly b = 0.4,
  ) {
    for (const chunk of chunks) for (const term of chunk.tf.keys()) this.df.set(term, (this.df.get(term) ?? 0) + 1);
    this.avgdl = chunks.reduce((sum, c) => sum + c.length, 0) / chunks.length;
  }

  /** Top `k` chunk keys with scores, for query terms given with their query frequency. */
  search(query: Map<string, number>, k: number): Array<{ key: string; score: number }> {
    const n = this.chunks.length;
    const scored: Array<{ key: string; score: number }> = [];
    for (const chunk of this.chunks) {
      let score = 0;
      for (const [term, qtf] of query) {
        const tf = chunk.tf.get(term);
        if (!tf) continue;
        const df = this.df.get(term) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (qtf * idf * tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + (this.b * chunk.length) / this.avgdl));
      }
      if (score > 0) scored.push({ key: chunk.key, score });
    }
    return scored.sort((x, y) => y.score - x.score || (x.key < y.key ? -1 : 1)).slice(0, k);
  }
}
