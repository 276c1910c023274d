/**
 * A scripted 300-turn conversation through the real turn pipeline — persistence, context assembly,
 * rolling summaries, the real OpenAI provider — against the mock LLM on loopback, on a model with
 * an 8,192-token window (described through MODEL_OVERRIDES, as an operator would). The mock counts
 * every request exactly (o200k) and refuses, like OpenAI, any request over the window.
 *
 *   npx tsx bench/conversation.ts [--turns 300] [--db pglite|postgres]
 *
 * Reports the prompt tokens sent against the naive full history (every previous message each turn,
 * counted even past the window), summary calls' tokens, overflows (refused requests) and the
 * largest request. Prints a ScenarioOutput (bench/lib/report.ts) on stdout.
 */
import { countMessageTokens, replyPrimingTokens } from "../lib/context/tokens";
import { MockLlmServer } from "../test/mock-llm/server";
import { round } from "./lib/metrics";
import { emit, goal } from "./lib/report";
import { prose, random } from "./lib/prose";
import { configureDatabase, dbChoice, flag, log } from "./lib/setup";

const MODEL = "openai:bench-8k";
const WINDOW = 8_192;
const SYSTEM = "You are BOT GPT, a helpful assistant. Answer clearly and concisely; say so when you are unsure.";


async function main() {
  const argv = process.argv.slice(2);
  const turns = Number(flag(argv, "--turns") ?? 300);
  const choice = dbChoice(argv, "bot_gpt_bench_conversation");
  const mock = new MockLlmServer();
  const url = await mock.listen();
  await configureDatabase(choice, {
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: `${url}/v1`,
    OPENAI_API: "chat",
    CHAT_MODEL: MODEL,
    MODEL_OVERRIDES: JSON.stringify({ [MODEL]: { context_window: WINDOW, max_output_tokens: 1_024, tokenizer: "o200k" } }),
    NODE_ENV: "production",
  });
  const { createUser } = await import("../lib/db/queries/users");
  const { createConversation, getConversationOrThrow } = await import("../lib/db/queries/conversations");
  const { runTurn } = await import("../lib/chat/turn");
  const { settleSummaries } = await import("../lib/chat/summarize");
  const { closeDb } = await import("../lib/db/client");

  const user = await createUser({ email: `bench-${Date.now()}@example.test`, password: "bench password 1", name: "Bench" });
  const { id } = await createConversation({ userId: user.id, title: "300 turns", mode: "open", model: MODEL, systemPrompt: SYSTEM });
  mock.settings = { ...mock.settings, chunkDelayMs: 0, contextWindow: WINDOW };

  // Short questions, longer answers, now and then a pasted document (~1,600 tokens).
  const next = random(300);
  let naive = replyPrimingTokens("o200k") + countMessageTokens({ content: SYSTEM }, "o200k");
  let naiveTotal = 0;
  let naiveOverflows = 0;
  const statuses = new Map<string, number>();
  const started = performance.now();
  for (let turn = 1; turn <= turns; turn++) {
    const question = prose(next, next() < 0.05 ? 1_200 : 15 + Math.floor(next() * 100));
    mock.settings.reply = prose(next, 60 + Math.floor(next() * 350));
    const conversation = await getConversationOrThrow({ id, userId: user.id });
    const result = await runTurn({ userId: user.id, conversation, content: question, signal: new AbortController().signal });
    const status = result.assistantMessage.status;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    naive += countMessageTokens({ content: question }, "o200k");
    naiveTotal += naive;
    if (naive + 1_024 > WINDOW) naiveOverflows++;
    naive += countMessageTokens({ content: result.assistantMessage.content }, "o200k");
    // Summaries run after the reply; in a real chat the user's typing hides them.
    await settleSummaries();
    if (turn % 50 === 0) log(`turn ${turn}`);
  }
  const elapsedS = (performance.now() - started) / 1000;

  const isSummary = (body: Record<string, unknown>) =>
    ((body.messages as Array<{ role: string; content: string }> | undefined) ?? []).some((m) => m.role === "system" && m.content.includes("running summary"));
  const chat = mock.requests.filter((r) => r.path.endsWith("/chat/completions") && !isSummary(r.body));
  const summaries = mock.requests.filter((r) => r.path.endsWith("/chat/completions") && isSummary(r.body));
  const sent = chat.reduce((sum, r) => sum + r.promptTokens, 0);
  const summaryInput = summaries.reduce((sum, r) => sum + r.promptTokens, 0);
  const overflows = chat.filter((r) => r.promptTokens + Number(r.body.max_tokens ?? 0) > WINDOW).length;
  const final = await getConversationOrThrow({ id, userId: user.id });
  const result = {
    db: choice.db,
    model: { id: MODEL, window: WINDOW, tokenizer: "o200k", reserved_output: Number(chat.at(-1)?.body.max_tokens ?? 0) },
    turns,
    replies_by_status: Object.fromEntries(statuses),
    prompt_tokens_sent: sent,
    naive_prompt_tokens: naiveTotal,
    ratio: round(sent / naiveTotal, 4),
    summary_calls: summaries.length,
    summary_input_tokens: summaryInput,
    ratio_including_summaries: round((sent + summaryInput) / naiveTotal, 4),
    overflows,
    naive_overflows: naiveOverflows,
    largest_request_tokens: Math.max(...chat.map((r) => r.promptTokens)),
    summary_through_seq: final.summaryThroughSeq,
    summary_tokens: final.summaryTokens,
    mean_turn_ms: round((elapsedS * 1000) / turns, 1),
    counted_by: "the mock LLM, exactly (o200k: content + 4 per message + 3 per request), the way the provider bills",
  };
  await closeDb();
  await mock.close();
  const pct = (v: number) => `${round(v * 100, 1)} %`;
  emit({
    benchmark: "conversation",
    method:
      `A scripted ${turns}-turn conversation through the real turn pipeline (user message saved with its token count, context assembled, the real OpenAI provider over Chat Completions ` +
      "streaming from the mock LLM, reply and usage saved, rolling summaries by the same model) on a model with an 8,192-token window (1,024 reserved for output) described through MODEL_OVERRIDES. " +
      "Questions of 15–115 words (5 % are pasted ~1,600-token documents), answers of 60–410 words. The mock counts every request exactly (o200k, as OpenAI bills) and refuses any over the window. " +
      "Naive = system prompt + every earlier message + the new one each turn, counted past the window. The pipeline is deterministic for a given script, so one run is the figure.",
    quick: argv.includes("--quick"),
    runs: 1,
    goals: [
      goal(`${turns}-turn prompt tokens ÷ naive history`, result.ratio * 100, { lte: 25 }, "%"),
      goal(`${turns}-turn requests over the window`, overflows, { lte: 0 }, "requests"),
    ],
    tables: [
      {
        title: `${turns}-turn conversation, ${choice.db === "pglite" ? "PGlite" : "Postgres"}`,
        columns: ["figure", "value"],
        rows: [
          ["prompt tokens sent", sent],
          ["naive full-history prompt tokens", naiveTotal],
          ["ratio", pct(result.ratio)],
          [`ratio including the ${summaries.length} summary calls' input`, pct(result.ratio_including_summaries)],
          ["requests over the window (naive: turns that would overflow)", `${overflows} (naive: ${naiveOverflows} of ${turns})`],
          ["replies by status", Object.entries(result.replies_by_status).map(([k, v]) => `${k} ${v}`).join(", ")],
          ["largest request, tokens", result.largest_request_tokens],
          ["mean turn (mock streams without delay), ms", result.mean_turn_ms],
        ],
      },
    ],
    details: result,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
