/**
 * Grounded retrieval quality on a labelled set of generated PDFs: questions whose answer is on a
 * known page, asked through the same path a grounded message takes (groundMessage: BM25 search
 * over the conversation's documents, relevance threshold, merging, exact-page citations).
 *
 *   npx tsx bench/grounded-quality.ts [--quick] [--db pglite|postgres] [--url postgres://…/bot_gpt_bench_grounded]
 *
 * Three PDFs (40, 120 and 300 pages) of plant-report prose in which every page names one of the
 * ten subjects the questions ask about (distractors); each fact is one sentence on one page, and the
 * questions paraphrase it ("How often is X inspected?" for "the inspection interval of X is …"). Reports, over all questions:
 * nDCG@10 and recall@1/@3/@6/@10 (a passage containing the fact is among the first k), MRR, page accuracy (the
 * citation of the first passage containing the fact names the fact's page) and how often an
 * unanswerable question is (correctly) left without passages. Prints a ScenarioOutput on stdout.
 */
import { makePdf } from "../test/support/make-pdf";
import { mean, percentile, round } from "./lib/metrics";
import { emit } from "./lib/report";
import { configureDatabase, dbChoice, log } from "./lib/setup";

const SUBJECTS = ["Harbor pump station", "North turbine hall", "Cedar substation", "East cooling tower", "Quarry conveyor", "Riverside boiler", "Hilltop reservoir", "Signal control room", "Main switchyard", "West compressor bay"];
const ATTRIBUTES = [
  { noun: "inspection interval", unit: "days", ask: (s: string) => `How often is the ${s} inspected?` },
  { noun: "rated output", unit: "megawatts", ask: (s: string) => `What is the rated output of the ${s}?` },
  { noun: "operating temperature", unit: "degrees Celsius", ask: (s: string) => `At what temperature does the ${s} operate?` },
  { noun: "crew size", unit: "technicians", ask: (s: string) => `How many technicians staff the ${s}?` },
  { noun: "commissioning year", unit: "", ask: (s: string) => `In which year was the ${s} commissioned?` },
  { noun: "maximum pressure", unit: "bar", ask: (s: string) => `What is the maximum pressure at the ${s}?` },
];
const FILLER =
  "Routine checks covered lighting fire doors access badges and the condition of walkways. The site log notes weather delays contractor visits and the delivery of spare parts. Managers reviewed the budget and agreed the training plan for new staff. Environmental monitoring found no exceedances during the period. Cleaning of drains and gutters was completed ahead of the winter season.".split(
    ". ",
  );

type Fact = { doc: number; page: number; subject: string; attribute: (typeof ATTRIBUTES)[number]; value: string; question: string };

function rng(seed: number) {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Builds the PDFs' pages and the labelled facts (deterministic). */
function buildSet(sizes: number[], factsPerDoc: number) {
  const random = rng(42);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const facts: Fact[] = [];
  // Each (subject, attribute) pair is stated once in the whole set, so every question has one answer.
  const pairs = new Set<string>();
  const docs = sizes.map((pages, doc) => {
    const pageTexts = Array.from({ length: pages }, (_, i) => {
      // Distractors: every page names a subject (so each question's subject is on many pages).
      const subject = pick(SUBJECTS);
      const filler = Array.from({ length: 12 }, () => pick(FILLER)).join(". ");
      return `Section ${doc + 1}.${i + 1}. The ${subject} was visited by the safety team. ${filler}. Figures for several sites were compared with last year.`;
    });
    const used = new Set<string>();
    for (let f = 0; f < factsPerDoc; f++) {
      let page: number;
      do page = 1 + Math.floor(random() * pages);
      while (used.has(`p${page}`));
      used.add(`p${page}`);
      let subject: string;
      let attribute: (typeof ATTRIBUTES)[number];
      do {
        subject = pick(SUBJECTS);
        attribute = pick(ATTRIBUTES);
      } while (pairs.has(`${subject}|${attribute.noun}`));
      pairs.add(`${subject}|${attribute.noun}`);
      const value = attribute.noun === "commissioning year" ? String(1950 + Math.floor(random() * 70)) : String(10 + Math.floor(random() * 900));
      const sentence = `Measured figures: the ${attribute.noun} of the ${subject} is ${value}${attribute.unit ? ` ${attribute.unit}` : ""}.`;
      // The page's own subject becomes the fact's, so no other page pairs that subject with this attribute.
      pageTexts[page - 1] = `${pageTexts[page - 1]!.replace(/The [A-Z][a-z]+ [a-z]+(?: [a-z]+)? was visited/, `The ${subject} was visited`)} ${sentence}`;
      facts.push({ doc, page, subject, attribute, value, question: attribute.ask(subject) });
    }
    return pageTexts;
  });
  return { docs, facts };
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes("--quick");
  const choice = dbChoice(argv, "bot_gpt_bench_grounded");
  await configureDatabase(choice);
  const { getHandle, closeDb } = await import("@/lib/db/client");
  const { createDocument } = await import("@/lib/db/queries/documents");
  const { createConversation } = await import("@/lib/db/queries/conversations");
  const { createUser } = await import("@/lib/db/queries/users");
  const { kickIngestion } = await import("@/lib/retrieval/queue");
  const { groundMessage } = await import("@/lib/retrieval/ground");
  const handle = await getHandle();

  const sizes = quick ? [20, 40] : [40, 120, 300];
  // 60 distinct (subject, attribute) pairs exist: 18 questions a PDF at most.
  const { docs, facts } = buildSet(sizes, quick ? 6 : 18);
  const user = await createUser({ email: `grounded-${Date.now()}@example.test`, password: "bench password 123" });
  const ids: string[] = [];
  for (const [i, pages] of docs.entries()) {
    const { document } = await createDocument({ userId: user.id, filename: `plant-report-${i + 1}.pdf`, mimeType: "application/pdf", bytes: makePdf(pages) });
    ids.push(document.id);
  }
  await kickIngestion();
  const conversation = await createConversation({ userId: user.id, title: "bench", mode: "grounded", model: "offline:bot-gpt-offline", systemPrompt: null, documentIds: ids });
  log(`${handle.driver}: ${docs.reduce((n, d) => n + d.length, 0)} pages in ${docs.length} PDFs, ${facts.length} questions`);

  const ranks: number[] = [];
  let pageHits = 0;
  const latencies: number[] = [];
  for (const fact of facts) {
    const started = performance.now();
    const grounding = await groundMessage({ conversationId: conversation.id, userId: user.id, content: fact.question, previousQuestion: null, lastCitation: undefined, passageTokenBudget: 8_000 });
    latencies.push(performance.now() - started);
    if (grounding.kind !== "retrieved") throw new Error(`grounding ${grounding.kind}`);
    const rank = grounding.passages.findIndex((p) => p.documentId === ids[fact.doc] && p.content.replace(/\s+/g, " ").includes(`is ${fact.value}`));
    ranks.push(rank < 0 ? Infinity : rank + 1);
    if (process.env.BENCH_DEBUG === "full" && rank !== 0) {
      for (const p of grounding.passages.slice(0, 2)) log(`--- ${p.score} p.${p.pageStart}\n${p.content}`);
    }
    if (process.env.BENCH_DEBUG && rank !== 0) {
      log(`miss@1 (${rank + 1}) ${fact.question} → p.${fact.page}: ${grounding.passages.slice(0, 2).map((p) => `${p.score.toFixed(2)} p.${p.pageStart}-${p.pageEnd} ${p.content.slice(0, 80).replace(/\n/g, " ")}`).join(" | ")}`);
    }
    if (rank >= 0) {
      const citation = grounding.citations[rank];
      if (citation && citation.pageStart <= fact.page && citation.pageEnd >= fact.page && citation.pageStart === fact.page) pageHits += 1;
    }
  }
  // Questions about subjects the reports never mention: nothing should be passed to the model.
  const absent = ["What is the boiling point of mercury?", "Who won the 1998 football world cup?", "What is the capital of Peru?", "How tall is the Eiffel tower?"];
  let leftEmpty = 0;
  for (const question of absent) {
    const grounding = await groundMessage({ conversationId: conversation.id, userId: user.id, content: question, previousQuestion: null, lastCitation: undefined, passageTokenBudget: 8_000 });
    if (grounding.kind === "retrieved" && grounding.passages.length === 0) leftEmpty += 1;
  }
  const recall = (k: number) => round(ranks.filter((r) => r <= k).length / ranks.length);
  const report = {
    benchmark: "grounded-quality",
    db: handle.driver,
    pdfs: sizes,
    questions: facts.length,
    recall_at_1: recall(1),
    recall_at_3: recall(3),
    recall_at_6: recall(6),
    recall_at_10: recall(10),
    ndcg_at_10: round(mean(ranks.map((r) => (r <= 10 ? 1 / Math.log2(r + 1) : 0)))),
    mrr: round(mean(ranks.map((r) => (Number.isFinite(r) ? 1 / r : 0)))),
    page_accuracy: round(pageHits / facts.length),
    unanswerable_left_without_passages: `${leftEmpty}/${absent.length}`,
    grounding_latency_ms: { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1) },
  };
  const dbName = handle.driver === "pglite" ? "PGlite" : "Postgres";
  emit({
    benchmark: "grounded-quality",
    method:
      `The labelled PDF set: ${sizes.length} generated PDFs (${sizes.join(", ")} pages) of plant-report prose where every page names one of ten subjects (distractors) ` +
      `and each of ${facts.length} facts is one sentence on one known page; the questions paraphrase the facts and go through groundMessage on ${dbName} ` +
      "(BM25 over the conversation's documents, relevance threshold, passage merging, exact-page citations), as a grounded chat message does. " +
      "One relevant passage per question: nDCG@10 = 1/log2(1 + rank). Page accuracy: the citation of the passage holding the fact names the fact's page. " +
      "There is no published figure for this set; it is ours, so it guards regressions rather than ranks against a peer.",
    quick,
    runs: 1,
    goals: [],
    tables: [
      {
        title: `Labelled PDF set, ${dbName}`,
        columns: ["questions", "nDCG@10", "recall@1", "recall@3", "recall@10", "MRR", "page accuracy", "unanswerable left without passages", "grounding p50 / p95, ms"],
        rows: [[facts.length, report.ndcg_at_10, report.recall_at_1, report.recall_at_3, report.recall_at_10, report.mrr, report.page_accuracy, report.unanswerable_left_without_passages, `${report.grounding_latency_ms.p50} / ${report.grounding_latency_ms.p95}`]],
      },
    ],
    details: report,
  });
  await closeDb();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
