/** Relevance judgements: query id → (document id → graded relevance). */
export type Qrels = Map<string, Map<string, number>>;

/** nDCG@k with linear gains, as trec_eval (and so BEIR and Pyserini) compute it. */
export function ndcgAt(ranking: string[], relevant: Map<string, number>, k: number): number {
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    dcg += (relevant.get(id) ?? 0) / Math.log2(i + 2);
  });
  const ideal = [...relevant.values()].filter((g) => g > 0).sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0);
  return idcg > 0 ? dcg / idcg : 0;
}

export function recallAt(ranking: string[], relevant: Map<string, number>, k: number): number {
  const wanted = [...relevant].filter(([, g]) => g > 0).map(([id]) => id);
  if (wanted.length === 0) return 0;
  const top = new Set(ranking.slice(0, k));
  return wanted.filter((id) => top.has(id)).length / wanted.length;
}

export function mrrAt(ranking: string[], relevant: Map<string, number>, k: number): number {
  const index = ranking.slice(0, k).findIndex((id) => (relevant.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

/** Nearest-rank percentile of a sample (milliseconds in, milliseconds out). */
export function percentile(sample: number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

export const round = (value: number, digits = 4) => Number(value.toFixed(digits));
