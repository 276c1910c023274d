import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";
import { countTextTokensAsync } from "@/lib/context/tokens";
import { pageLabel } from "@/lib/ai/prompts";
import { bestSentences, truncate } from "@/lib/retrieval/sentences";

/**
 * The built-in offline model: the zero-config default and the last fallback tier. It is not an
 * AI and says so. It streams a deterministic, honest answer token by token: no provider is
 * configured, how to configure one, and what it received. In a grounded conversation it answers
 * extractively instead: the sentences of the retrieved passages that best match the question,
 * quoted, with their citation numbers.
 */

/** What a grounded turn hands the offline model (as provider options `botgpt.grounding`). */
export type OfflineGrounding = {
  question: string;
  passages: Array<{ index: number; filename: string; pageStart: number; pageEnd: number; content: string }>;
};

const QUOTED_PASSAGES = 3;

export function composeGroundedReply(grounding: OfflineGrounding): string {
  const question = truncate(grounding.question.replace(/\s+/g, " ").trim(), 160);
  if (grounding.passages.length === 0) {
    return `**Offline model (extractive, not an AI):** your documents do not cover this. No passage in them matches “${question}”.`;
  }
  const quotes = grounding.passages.slice(0, QUOTED_PASSAGES).map((p) => {
    const sentences = bestSentences(p.content, grounding.question, 2).map((s) => truncate(s, 400));
    return `> ${sentences.join(" ")} [${p.index}]\n\n— *${p.filename}, ${pageLabel(p.pageStart, p.pageEnd)}*`;
  });
  return [
    "**Offline model (extractive, not an AI):** no LLM is configured, so here is what your documents say, quoted from the passages that best match your question:",
    "",
    quotes.join("\n\n"),
    "",
    "Open a source to read it in context.",
  ].join("\n");
}

function groundingOf(options: LanguageModelV3CallOptions): OfflineGrounding | null {
  const value = options.providerOptions?.botgpt?.grounding as OfflineGrounding | undefined;
  return value && typeof value.question === "string" && Array.isArray(value.passages) ? value : null;
}

/** The offline model standing in for configured models that failed (the end of the fallback chain). */
export function composeUnavailableReply(reasons: string): string {
  return [
    "**The AI model is unavailable right now.** This reply comes from BOT GPT's built-in offline model, which is not an AI and cannot answer your question.",
    "",
    `What happened: ${reasons}.`,
    "",
    "Your message is saved. Try again in a moment (regenerate, or send it again).",
  ].join("\n");
}

async function replyFor(options: LanguageModelV3CallOptions): Promise<string> {
  const grounding = groundingOf(options);
  if (grounding) return composeGroundedReply(grounding);
  const unavailable = options.providerOptions?.botgpt?.unavailable;
  return typeof unavailable === "string" && unavailable ? composeUnavailableReply(unavailable) : composeOfflineReply(options.prompt);
}

function textOf(message: LanguageModelV3Prompt[number]): string {
  if (typeof message.content === "string") return message.content;
  return message.content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("");
}

// The offline model counts like OpenAI's o200k models; special-token text counts as plain text.
// Its prompt can be a whole context window: counted in slices that yield to the event loop.
const countTokens = (text: string) => countTextTokensAsync(text, "o200k");

async function promptTokens(prompt: LanguageModelV3Prompt): Promise<number> {
  // ~4 tokens of chat framing per message, as OpenAI's chat format adds.
  let sum = 0;
  for (const message of prompt) sum += (await countTokens(textOf(message))) + 4;
  return sum;
}

export async function composeOfflineReply(prompt: LanguageModelV3Prompt): Promise<string> {
  const turns = prompt.filter((m) => m.role === "user").length;
  const lastUser = [...prompt].reverse().find((m) => m.role === "user");
  const lastText = lastUser ? textOf(lastUser).trim() : "";
  const excerpt = lastText.length > 200 ? `${lastText.slice(0, 200)}…` : lastText;
  const quoted = excerpt
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
  return [
    "**This is BOT GPT's built-in offline model, not an AI.** No LLM provider is configured on this server, so I can't answer your question.",
    "",
    "To connect a real model, set one of these environment variables and restart:",
    "- `OPENAI_API_KEY` (and optionally `OPENAI_BASE_URL`) for OpenAI",
    "- `GROQ_API_KEY` for Groq",
    "- `OLLAMA_BASE_URL` with `CHAT_MODEL=ollama:<model>` for Ollama or another OpenAI-compatible server",
    "",
    `What I received: ${prompt.length} message${prompt.length === 1 ? "" : "s"} (${turns} from you), about ${await promptTokens(prompt)} prompt tokens. Your latest message (${await countTokens(lastText)} tokens):`,
    "",
    quoted || "> (empty)",
  ].join("\n");
}

function usageFor(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}

/** Splits text into word-sized pieces that keep their trailing whitespace. */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function abortError(): Error {
  const error = new Error("The operation was aborted.");
  error.name = "AbortError";
  return error;
}

export class OfflineLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = "v3" as const;
  readonly provider = "offline";
  readonly supportedUrls = {};

  constructor(
    readonly modelId: string,
    private readonly tokenDelayMs: number,
  ) {}

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    if (options.abortSignal?.aborted) throw abortError();
    const text = await replyFor(options);
    return {
      content: [{ type: "text", text }],
      finishReason: { unified: "stop", raw: "stop" },
      usage: usageFor(await promptTokens(options.prompt), await countTokens(text)),
      warnings: [],
      response: { modelId: this.modelId, timestamp: new Date() },
    };
  }

  async doStream(options: LanguageModelV3CallOptions) {
    const text = await replyFor(options);
    const pieces = splitIntoTokens(text);
    const usage = usageFor(await promptTokens(options.prompt), await countTokens(text));
    const delay = this.tokenDelayMs;
    const signal = options.abortSignal;
    let index = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        controller.enqueue({ type: "stream-start", warnings: [] });
        controller.enqueue({ type: "response-metadata", modelId: "bot-gpt-offline", timestamp: new Date() });
        controller.enqueue({ type: "text-start", id: "offline-text" });
      },
      async pull(controller) {
        if (signal?.aborted) {
          controller.error(abortError());
          return;
        }
        if (index < pieces.length) {
          if (delay > 0) {
            await new Promise<void>((resolve) => {
              // One listener per token, removed when the token is due: they must not pile up.
              const onAbort = () => {
                clearTimeout(timer);
                resolve();
              };
              timer = setTimeout(() => {
                signal?.removeEventListener("abort", onAbort);
                resolve();
              }, delay);
              signal?.addEventListener("abort", onAbort, { once: true });
            });
            if (signal?.aborted) {
              controller.error(abortError());
              return;
            }
          }
          controller.enqueue({ type: "text-delta", id: "offline-text", delta: pieces[index++] ?? "" });
          return;
        }
        controller.enqueue({ type: "text-end", id: "offline-text" });
        controller.enqueue({ type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage });
        controller.close();
      },
      cancel() {
        if (timer) clearTimeout(timer);
      },
    });
    return { stream };
  }
}
