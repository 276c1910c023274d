import fs from "node:fs";
import path from "node:path";
import type { Qrels } from "./metrics";

export type CorpusDoc = { id: string; title: string; text: string };
export type Query = { id: string; text: string };

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** BEIR SciFact, read in place (it is licensed for benchmarking only: never copied into the repo). */
export function loadSciFact(dir: string): { corpus: CorpusDoc[]; queries: Query[]; qrels: Qrels } {
  const corpus = readJsonl<{ _id: string; title?: string; text?: string }>(path.join(dir, "corpus.jsonl")).map((d) => ({
    id: d._id,
    title: d.title ?? "",
    text: d.text ?? "",
  }));
  const qrels: Qrels = new Map();
  const lines = fs.readFileSync(path.join(dir, "qrels-test.tsv"), "utf8").split("\n").slice(1);
  for (const line of lines) {
    const [queryId, docId, score] = line.trim().split("\t");
    if (!queryId || !docId) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(docId, Number(score ?? 0));
    qrels.set(queryId, judged);
  }
  const queries = readJsonl<{ _id: string; text: string }>(path.join(dir, "queries.jsonl"))
    .map((q) => ({ id: q._id, text: q.text }))
    .filter((q) => qrels.has(q.id));
  return { corpus, queries, qrels };
}
