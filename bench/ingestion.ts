/**
 * Ingestion throughput and event-loop responsiveness.
 *
 *   npx tsx bench/ingestion.ts [--quick] [--db pglite|postgres] [--url postgres://…/bot_gpt_bench_ingest] [--runs 3]
 *
 * For generated PDFs of 10, 100 and 500 pages (~350 words a page), times upload-to-ready through
 * the real pipeline (createDocument → the queue → child-process extraction and chunking → chunk,
 * tsvector and term-statistics writes) and samples the main thread's event-loop delay meanwhile.
 * The first run of each size may include a cold parser process. Prints a ScenarioOutput (bench/lib/report.ts) on stdout.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { makePdf } from "../test/support/make-pdf";
import { percentile, round } from "./lib/metrics";
import { emit, goal, median } from "./lib/report";
import { configureDatabase, dbChoice, flag, log } from "./lib/setup";

const WORDS =
  "the plant operator records pressure readings for each pump and valve while engineers review maintenance schedules safety procedures coolant flow turbine output staff training budgets audits and inspection reports across every site in the region during the quarter".split(
    " ",
  );

/** Deterministic page text (~350 words) so runs are comparable. */
function pageText(page: number): string {
  let seed = page * 7919;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const sentences: string[] = [];
  for (let s = 0; s < 25; s++) {
    const words = Array.from({ length: 14 }, () => WORDS[next() % WORDS.length]);
    sentences.push(`${words.join(" ")}.`);
  }
  return `Page ${page}. ${sentences.join(" ")}`;
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const choice = dbChoice(argv, "bot_gpt_bench_ingest");
  const runs = Number(flag(argv, "--runs") ?? (quick ? 1 : 3));
  const sizes = quick ? [10, 50] : [10, 100, 500];
  await configureDatabase(choice);

  const { getHandle, getDb, closeDb } = await import("@/lib/db/client");
  const { createDocument } = await import("@/lib/db/queries/documents");
  const { createUser } = await import("@/lib/db/queries/users");
  const { kickIngestion } = await import("@/lib/retrieval/queue");
  const { documents } = await import("@/lib/db/schema");
  const { eq } = await import("drizzle-orm");
  const handle = await getHandle();
  const db = await getDb();
  const user = await createUser({ email: `ingest-${Date.now()}@example.test`, password: "bench password 123" });

  const results = [];
  for (const pages of sizes) {
    const pdfs = Array.from({ length: runs }, (_, r) => makePdf(Array.from({ length: pages }, (_, i) => `${pageText(i + 1)} Run ${r}.`)));
    const seconds: number[] = [];
    const lagP99: number[] = [];
    const lagMax: number[] = [];
    let chunks = 0;
    for (const [r, bytes] of pdfs.entries()) {
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      const started = performance.now();
      histogram.enable();
      const { document } = await createDocument({ userId: user.id, filename: `bench-${pages}-${r}.pdf`, mimeType: "application/pdf", bytes });
      await kickIngestion();
      histogram.disable();
      const elapsed = (performance.now() - started) / 1000;
      const [row] = await db.select().from(documents).where(eq(documents.id, document.id));
      if (row?.status !== "ready") throw new Error(`document ${pages} pages ended ${row?.status}: ${JSON.stringify(row?.error)}`);
      chunks = row.chunkCount;
      seconds.push(elapsed);
      lagP99.push(histogram.percentile(99) / 1e6);
      lagMax.push(histogram.max / 1e6);
      log(`${handle.driver} ${pages} pages run ${r + 1}: ${elapsed.toFixed(2)} s, loop lag p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms`);
    }
    results.push({
      pages,
      chunks,
      runs,
      seconds_median: round(percentile(seconds, 50), 3),
      seconds_each: seconds.map((s) => round(s, 3)),
      pages_per_second_median: round(pages / percentile(seconds, 50), 1),
      event_loop_lag_p99_ms: round(median(lagP99), 1),
      event_loop_lag_max_ms: round(Math.max(...lagMax), 1),
    });
  }
  const db_ = handle.driver === "pglite" ? "PGlite" : "Postgres";
  const largest = results.at(-1)!;
  const hundred = results.find((r) => r.pages === 100);
  emit({
    benchmark: "ingestion",
    method:
      `Generated PDFs of ${sizes.join(", ")} pages (~350 words a page), timed from upload to \`ready\` through the real pipeline on ${db_}: ` +
      "createDocument, the queue, child-process text extraction and chunking, chunk, tsvector and term-statistics writes. " +
      "The main thread's event-loop delay is sampled meanwhile (monitorEventLoopDelay, 5 ms resolution): a long stall there is what a user chatting on the same instance would feel. " +
      "Median of the runs; the first run of each size may include starting a parser process (~0.8 s). The goals are the grounded-chat issue's.",
    quick,
    runs,
    goals: [
      goal(`ingestion ${largest.pages} pages, ${db_}: pages/s`, largest.pages_per_second_median, { gte: 50 }, "pages/s"),
      ...(hundred ? [goal(`ingestion 100 pages, ${db_}: upload to ready`, hundred.seconds_median, { lte: 3 }, "s")] : []),
      goal(`ingestion, ${db_}: event-loop lag p99 (worst size)`, Math.max(...results.map((r) => r.event_loop_lag_p99_ms)), { lte: 50 }, "ms"),
    ],
    tables: [
      {
        title: `Ingestion, ${db_}`,
        columns: ["pages", "chunks", "upload → ready, median s", "pages/s", "event-loop lag p99, ms (median of runs)", "worst stall, ms"],
        rows: results.map((r) => [r.pages, r.chunks, r.seconds_median, r.pages_per_second_median, r.event_loop_lag_p99_ms, r.event_loop_lag_max_ms]),
      },
    ],
    details: { db: handle.driver, node: process.version, results },
  });
  await closeDb();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
