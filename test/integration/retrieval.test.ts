import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { startHarness, type Harness } from "../support/harness";

/**
 * searchChunks against a real database: BM25 checked by hand on tiny corpora, scoping to the
 * given ready documents, hostile queries, and the optional embedding path (hybrid on PGlite,
 * which ships pgvector; lexical only on a Postgres server without it).
 */

let h: Harness;
let search: typeof import("@/lib/retrieval/search");
let embeddings: typeof import("@/lib/retrieval/embeddings");
let docs: typeof import("@/lib/db/queries/documents");
let driver: "pglite" | "postgres";
let warn: MockInstance;
let error: MockInstance;

beforeAll(async () => {
  h = await startHarness({ EMBEDDING_MODEL: "openai:text-embedding-3-small" });
  search = await import("@/lib/retrieval/search");
  embeddings = await import("@/lib/retrieval/embeddings");
  docs = await import("@/lib/db/queries/documents");
  driver = (await (await import("@/lib/db/client")).getHandle()).driver;
  const { log } = await import("@/lib/log");
  warn = vi.spyOn(log, "warn");
  error = vi.spyOn(log, "error");
});
afterAll(async () => {
  warn.mockRestore();
  error.mockRestore();
  await h.close();
});

/** A ready document whose chunks are exactly `contents`. */
async function addDocument(userId: string, contents: string[], filename = "notes.txt"): Promise<string> {
  const { document } = await docs.createDocument({ userId, filename, mimeType: "text/plain", bytes: Buffer.from(`${filename}:${Math.random()}:${contents.join("|")}`) });
  await docs.completeDocument({
    id: document.id,
    pages: 1,
    chunks: contents.map((content) => ({ content, pageStart: 1, pageEnd: 1, charStart: 0, charEnd: content.length, tokenCount: content.split(" ").length })),
  });
  return document.id;
}

const find = (documentIds: string[], query: string, limit = 10) => search.searchChunks({ documentIds, query, limit });

/** BM25 as specified: Lucene idf, k1 = 0.9, b = 0.4, (k1 + 1) in the numerator. */
function bm25(tf: number, df: number, n: number, dl: number, avgdl: number): number {
  const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
  return (idf * tf * 1.9) / (tf + 0.9 * (1 - 0.4 + (0.4 * dl) / avgdl));
}

describe("BM25", () => {
  it("matches a hand computation, with statistics summed over several documents", async () => {
    const { user } = await h.signUp();
    // Analysed lengths: 2, 3 and 4 terms (no stop words); N = 3, avgdl = 3.
    const a = await addDocument(user.id, ["apple banana", "apple apple cherry"]);
    const b = await addDocument(user.id, ["banana cherry damson elderberry"]);
    const hits = await find([a, b], "apples");
    expect(hits.map((x) => x.content)).toEqual(["apple apple cherry", "apple banana"]);
    expect(hits[0]?.lexicalScore).toBeCloseTo(bm25(2, 2, 3, 3, 3), 9);
    expect(hits[1]?.lexicalScore).toBeCloseTo(bm25(1, 2, 3, 2, 3), 9);
    expect(hits[0]?.score).toBe(hits[0]?.lexicalScore);
    expect(hits[0]?.vectorScore).toBeNull();

    const two = await find([a, b], "cherry damson");
    const expected = bm25(1, 2, 3, 4, 3) + bm25(1, 1, 3, 4, 3);
    expect(two[0]).toMatchObject({ documentId: b, content: "banana cherry damson elderberry", ord: 0, filename: "notes.txt" });
    expect(two[0]?.lexicalScore).toBeCloseTo(expected, 9);
  });

  it("counts every occurrence of a term (tf) exactly", async () => {
    const { user } = await h.signUp();
    const contents = [1, 2, 3, 7, 20, 64, 150].map((tf) => `${"gene ".repeat(tf)}${"filler ".repeat(200 - tf)}`.trim());
    const id = await addDocument(user.id, contents);
    const hits = await find([id], "gene", 10);
    expect(hits).toHaveLength(contents.length);
    // Every chunk is 200 terms long, so avgdl = dl = 200 and only tf differs.
    for (const hit of hits) {
      const tf = hit.content.split(" ").filter((w) => w === "gene").length;
      expect(hit.lexicalScore).toBeCloseTo(bm25(tf, contents.length, contents.length, 200, 200), 9);
    }
    expect(hits.map((x) => x.ord)).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it("recovers tf from ts_rank exactly for every tf a tsvector can hold", async () => {
    const { getDb } = await import("@/lib/db/client");
    const { sql } = await import("drizzle-orm");
    const result = await (await getDb()).execute(sql`
      select n, width_bucket(ts_rank('{1,1,1,1}', v, 'w'::tsquery, 0)::float8, ${search.TF_THRESHOLDS}::float8[]) as tf,
        (select array_length(positions, 1) from unnest(v)) as positions
      from generate_series(1, 300) n, to_tsvector('simple', repeat('w ', n)) v`);
    const rows = (result as unknown as { rows: Array<{ n: number; tf: number; positions: number }> }).rows;
    expect(rows).toHaveLength(300);
    for (const row of rows) expect({ n: row.n, tf: Number(row.tf) }).toEqual({ n: row.n, tf: Number(row.positions) });
    // Up to the cap tsvectors put on positions per lexeme, and past it.
    expect(rows.filter((r) => Number(r.positions) === r.n).length).toBeGreaterThanOrEqual(255);
    expect(Number(rows.at(-1)?.positions)).toBeLessThan(300);
  });

  it("ranks a rare term above a common one, and a short chunk above a long one", async () => {
    const { user } = await h.signUp();
    const id = await addDocument(user.id, [
      "zebra omega",
      "alpha omega",
      "alpha beta",
      "alpha gamma",
      "kiwi orchard",
      "kiwi orchard harvest season weather rainfall irrigation pruning soil yield market",
    ]);
    const rare = await find([id], "alpha zebra");
    expect(rare[0]?.content).toBe("zebra omega");
    const lengths = await find([id], "kiwi");
    expect(lengths.map((x) => x.content)).toEqual([
      "kiwi orchard",
      "kiwi orchard harvest season weather rainfall irrigation pruning soil yield market",
    ]);
    expect(lengths[0]!.lexicalScore!).toBeGreaterThan(lengths[1]!.lexicalScore!);
  });

  it("gives the same ranking and scores however the chunks are split into documents", async () => {
    const { user } = await h.signUp();
    const texts = Array.from({ length: 30 }, (_, i) => `report ${i % 3 === 0 ? "protein" : "lipid"} ${i % 5 === 0 ? "kinase kinase" : "assay"} sample ${i}`);
    const one = await addDocument(user.id, texts, "one.txt");
    const split = await Promise.all([0, 1, 2].map((k) => addDocument(user.id, texts.filter((_, i) => i % 3 === k), `part-${k}.txt`)));
    // Equal scores are ordered by chunk id, which differs between the two copies: compare as sets.
    const strip = (hits: Awaited<ReturnType<typeof find>>) => hits.map((x) => `${x.content} ${x.lexicalScore?.toFixed(9)}`).sort();
    const whole = strip(await find([one], "protein kinase", 30));
    expect(whole).toHaveLength(14);
    expect(strip(await find(split, "protein kinase", 30))).toEqual(whole);
  });
});

describe("scoping", () => {
  it("returns only chunks of the given documents, and only of ready ones", async () => {
    const alice = (await h.signUp()).user;
    const bob = (await h.signUp()).user;
    const mine = await addDocument(alice.id, ["quarterly revenue grew strongly", "unrelated text"]);
    const other = await addDocument(alice.id, ["revenue revenue revenue everywhere"]);
    const bobs = await addDocument(bob.id, ["revenue forecast for bob"]);
    const failed = await addDocument(alice.id, ["revenue that failed to index"]);
    const { getDb } = await import("@/lib/db/client");
    const { sql } = await import("drizzle-orm");
    await (await getDb()).execute(sql`update documents set status = 'failed' where id = ${failed}`);

    const hits = await find([mine, failed], "revenue");
    expect(hits.map((x) => x.documentId)).toEqual([mine]);
    // The failed document does not count in the statistics either.
    expect(hits[0]?.lexicalScore).toBeCloseTo(bm25(1, 1, 2, 4, 3), 9);
    expect((await find([mine, other, bobs], "revenue")).map((x) => x.documentId).sort()).toEqual([mine, other, bobs].sort());
    expect(await find([failed], "revenue")).toEqual([]);
    expect(await find([], "revenue")).toEqual([]);
    expect(await find(["not-a-uuid", "00000000-0000-4000-8000-000000000000"], "revenue")).toEqual([]);
    expect(await find([mine], "revenue", 0)).toEqual([]);
  });
});

describe("queries", () => {
  it("returns nothing for empty and stop-word-only queries", async () => {
    const { user } = await h.signUp();
    const id = await addDocument(user.id, ["the cat sat on the mat"]);
    for (const query of ["", "   ", "the and of", "is it a the"]) expect(await find([id], query)).toEqual([]);
  });

  it("treats tsquery syntax and SQL in the query as plain text", async () => {
    const { user } = await h.signUp();
    const id = await addDocument(user.id, [
      "plain words about budgets",
      "paths like /usr/lib/x.so and https://example.com/a?b=c and o'neil's back\\slash",
      "documents table is important",
    ]);
    const hostile = [
      "a & | ! ( ' :*",
      "budgets:* & !words",
      "budgets <-> words",
      "'); drop table documents; --",
      "\\ \\\\ '' \" $1 ${x}",
      "documents' | 'table",
      "x".repeat(5000),
      Array.from({ length: 300 }, (_, i) => `word${i}`).join(" "),
      "🙂 ü ß 中文",
    ];
    for (const query of hostile) await expect(find([id], query)).resolves.toBeInstanceOf(Array);
    expect((await find([id], "budgets:* & !words"))[0]?.content).toBe("plain words about budgets");
    expect((await find([id], "'); drop table documents; --"))[0]?.content).toBe("documents table is important");
    // Lexemes that carry punctuation (paths, URLs, apostrophes) still match themselves.
    for (const query of ["/usr/lib/x.so", "https://example.com/a?b=c", "o'neil's", "back\\slash"]) {
      expect((await find([id], query))[0]?.ord, query).toBe(1);
    }
  });
});

describe("embeddings", () => {
  it("fuses vector similarity with BM25 where pgvector exists, and stays lexical where it does not", async () => {
    const { user } = await h.signUp();
    const contents = Array.from({ length: 70 }, (_, i) => (i === 3 ? "volcanic ash grounded every flight" : `ledger entry ${i} about invoices and payments`));
    const id = await addDocument(user.id, contents);
    h.mock.reset();
    await embeddings.embedDocumentChunks({ documentId: id });
    const batches = h.mock.requests.filter((r) => r.path === "/v1/embeddings").map((r) => (r.body.input as string[]).length);
    const hits = await find([id], "volcanic ash flight", 5);
    expect(hits[0]?.ord).toBe(3);
    if (driver === "pglite") {
      expect(batches).toEqual([64, 6]);
      // Both calls are billed to the document's owner, priced like the provider prices them.
      const { summarizeUsage } = await import("@/lib/db/queries/usage");
      const usage = (await summarizeUsage({ userId: user.id, from: new Date(0), to: new Date(Date.now() + 60_000), groupBy: "model" })).filter(
        (r) => r.kind === "embedding",
      );
      expect(usage).toHaveLength(1);
      expect(usage[0]).toMatchObject({ key: "openai:text-embedding-3-small", requests: 2, completionTokens: 0 });
      expect(usage[0]!.promptTokens).toBeGreaterThan(70);
      expect(usage[0]!.costUsd).toBeCloseTo((usage[0]!.promptTokens * 0.02) / 1_000_000, 10);
      expect(hits[0]?.vectorScore).toBeGreaterThan(0.5);
      expect(hits[0]?.lexicalScore).toBeGreaterThan(0);
      // Reciprocal rank fusion: first in both rankings.
      expect(hits[0]?.score).toBeCloseTo(2 / 61, 12);
      expect(hits.every((x) => x.vectorScore !== null)).toBe(true);
    } else {
      expect(batches).toEqual([]);
      expect(hits.every((x) => x.vectorScore === null && x.score === x.lexicalScore)).toBe(true);
      expect(warn.mock.calls.filter((c) => c.some((arg) => String(arg).includes("pgvector not available: lexical retrieval only")))).toHaveLength(1);
    }
  });

  it("embeds documents as the ingestion queue completes them", async () => {
    const { user } = await h.signUp();
    const { document } = await docs.createDocument({ userId: user.id, filename: "queue.txt", mimeType: "text/plain", bytes: Buffer.from("Glaciers retreat as summers warm.\n\nSea ice thins.") });
    h.mock.reset();
    // On a shared server another test process may claim the document first: wait for it to be ready.
    for (let i = 0; i < 100 && (await docs.getDocumentOrThrow({ id: document.id, userId: user.id })).status !== "ready"; i++) {
      await (await import("@/lib/retrieval/queue")).kickIngestion();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const embedded = h.mock.requests.filter((r) => r.path === "/v1/embeddings").length;
    expect(embedded).toBe(driver === "pglite" ? 1 : 0);
    const hits = await find([document.id], "glaciers");
    expect(hits[0]?.documentId).toBe(document.id);
    expect(hits[0]?.vectorScore === null).toBe(driver !== "pglite");
  });

  it("falls back to lexical results when the embedding provider fails", async () => {
    const { user } = await h.signUp();
    const id = await addDocument(user.id, ["tidal energy output", "wind energy output", "solar panels"]);
    const embeddingCalls = () => h.mock.requests.filter((r) => r.path === "/v1/embeddings").length;
    const lexicalOnly = (hits: Awaited<ReturnType<typeof find>>) => {
      expect(hits.map((x) => x.content)).toEqual(["tidal energy output", "wind energy output"]);
      expect(hits.every((x) => x.vectorScore === null && x.score === x.lexicalScore)).toBe(true);
    };
    h.mock.reset();
    // A rejected request is not retried: ingestion logs and carries on without vectors…
    h.mock.pushFault({ type: "status", status: 400, message: "bad embedding request" });
    await expect(embeddings.embedDocumentChunks({ documentId: id })).resolves.toBeUndefined();
    // …and searches of a document without vectors do not call the provider at all.
    const before = embeddingCalls();
    lexicalOnly(await find([id], "tidal energy"));
    expect(embeddingCalls()).toBe(before);

    // With vectors stored, a query embedding failing on both attempts (one retry) leaves BM25.
    h.mock.reset();
    await embeddings.embedDocumentChunks({ documentId: id });
    h.mock.pushFault({ type: "status", status: 503 }, { type: "status", status: 503 });
    lexicalOnly(await find([id], "tidal energy"));
    if (driver === "pglite") {
      expect(embeddingCalls()).toBe(3);
      expect(error.mock.calls.some((c) => c.some((arg) => String(arg).includes("query embedding failed")))).toBe(true);
    }
  });
});
