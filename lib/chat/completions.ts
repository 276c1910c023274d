import { AppError } from "@/lib/api/errors";
import { modelChain, resolveModel, type ResolvedModel } from "@/lib/ai/providers";
import { createConversation, getConversationOrThrow } from "@/lib/db/queries/conversations";
import { assembleContext, fitSystemPrompt, type HistoryMessage } from "@/lib/context/assemble";
import { countTextTokensAsync, withTokenCounts, type TokenizerFamily } from "@/lib/context/tokens";
import { getDb } from "@/lib/db/client";
import { appendMessage } from "@/lib/db/queries/messages";
import type { Conversation } from "@/lib/db/schema";
import { trackReply } from "@/lib/streams/runs";
import { sseData, sseResponse } from "./sse";
import { deriveTitle } from "./title";
import { recordUsage } from "@/lib/usage/ledger";
import { generate, replyTokens, type CallSettings, type PreparedRequest } from "./generate";
import { runTurn } from "./turn";
import { log } from "@/lib/log";

/**
 * The OpenAI-compatible chat completions endpoint on top of the same turn machinery: the same
 * providers, persistence and usage accounting. A call is recorded as a conversation unless the
 * caller sends `store: false`; `conversation_id` continues one (its stored history is used).
 */

type InMessage = { role: string; content?: string | Array<{ type: string; text?: string }> | null };

export type CompletionRequest = {
  model: string;
  messages: InMessage[];
  stream: boolean;
  includeUsage: boolean;
  store: boolean;
  conversationId?: string;
  settings: CallSettings;
};

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
type Final = { id: string; text: string; finishReason: string; usage: Usage; conversationId: string | null; problem: AppError | null };

function textOf(content: InMessage["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
}

const FINISH_REASONS: Record<string, string> = { "content-filter": "content_filter", "tool-calls": "tool_calls", length: "length" };

function openAiFinishReason(reason: string | null): string {
  return (reason && FINISH_REASONS[reason]) ?? "stop";
}

function splitRequest(messages: InMessage[]) {
  const last = messages.at(-1);
  const content = last ? textOf(last.content).trim() : "";
  if (!last || last.role !== "user" || !content) {
    throw new AppError("validation_failed", "The last message must be a non-empty user message.", {
      errors: [{ path: `messages.${messages.length - 1}`, message: "must be a user message with text" }],
    });
  }
  const system = messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => textOf(m.content)).join("\n\n");
  const history = messages.slice(0, -1).filter((m) => m.role === "user" || m.role === "assistant");
  return { content: textOf(last.content), system: system || null, history };
}

async function conversationFor(
  userId: string,
  request: CompletionRequest,
  split: ReturnType<typeof splitRequest>,
  family: TokenizerFamily,
): Promise<Conversation> {
  if (request.conversationId) {
    const conversation = await getConversationOrThrow({ id: request.conversationId, userId });
    return conversation.model === request.model ? conversation : { ...conversation, model: request.model };
  }
  const firstUser = split.history.find((m) => m.role === "user");
  const conversation = await createConversation({
    userId,
    title: deriveTitle(firstUser ? textOf(firstUser.content) : split.content),
    mode: "open",
    model: request.model,
    systemPrompt: split.system,
  });
  // The caller's earlier turns become the stored history the model will see.
  for (const m of split.history) {
    const content = textOf(m.content);
    await appendMessage({
      conversationId: conversation.id,
      userId,
      role: m.role === "assistant" ? "assistant" : "user",
      content,
      tokens: { count: await countTextTokensAsync(content, family), family },
    });
  }
  return conversation;
}

type Prepared = {
  userId: string;
  apiKeyId: string | null;
  request: CompletionRequest;
  resolved: ReturnType<typeof resolveModel>;
  split: ReturnType<typeof splitRequest>;
  conversation: Conversation | null;
};

/**
 * Everything that can fail as a request error (422, 404) happens here, before any response is
 * started — a stream cannot change its status once it has begun.
 */
export async function prepareCompletion(userId: string, apiKeyId: string | null, request: CompletionRequest): Promise<Prepared> {
  const resolved = resolveModel(request.model);
  const split = splitRequest(request.messages);
  const conversation = request.store ? await conversationFor(userId, request, split, resolved.info.tokenizer) : null;
  return { userId, apiKeyId, request, resolved, split, conversation };
}

async function execute(prepared: Prepared, signal: AbortSignal, onDelta: (delta: string) => void, onId: (id: string) => void): Promise<Final> {
  const { userId, apiKeyId, request, resolved, split, conversation } = prepared;
  if (!conversation) {
    const id = `chatcmpl-${crypto.randomUUID()}`;
    onId(id);
    const history: HistoryMessage[] = [...split.history, { role: "user", content: split.content }].map((m, i) => ({
      seq: i + 1,
      role: m.role === "assistant" ? ("assistant" as const) : ("user" as const),
      content: textOf(m.content),
      tokens: null,
    }));
    // Not stored, but still fitted to the window of whichever model answers: the oldest turns give
    // way first. Counted per tokenizer family before assembling, yielding as it goes.
    const counted = new Map<TokenizerFamily, Promise<HistoryMessage[]>>();
    const prepare = async (model: ResolvedModel): Promise<PreparedRequest> => {
      const maxOutputTokens = replyTokens(model.info, request.settings.maxOutputTokens);
      const family = model.info.tokenizer;
      let messages = counted.get(family);
      if (!messages) counted.set(family, (messages = withTokenCounts(history, family)));
      const context = assembleContext({
        model: model.info,
        reservedOutputTokens: maxOutputTokens,
        ...(await fitSystemPrompt(split.system, model.info, maxOutputTokens)),
        summary: null,
        passages: [],
        history: await messages,
      });
      return { system: context.system, messages: context.messages, requestTokens: context.tokens.total, maxOutputTokens };
    };
    const outcome = await generate({ userId, chain: modelChain(resolved), prepare, settings: request.settings, signal, onDelta: (d) => onDelta(d) });
    const { usage } = outcome;
    const answered = outcome.resolved;
    await recordUsage(await getDb(), { userId, apiKeyId, kind: "chat", provider: answered.provider, model: answered.id, ...usage, cached: outcome.cached });
    return {
      id,
      text: outcome.text,
      finishReason: openAiFinishReason(outcome.finishReason),
      usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
      conversationId: null,
      problem: outcome.problem,
    };
  }
  // Stored replies can also be stopped through the API (`POST …/stop`, from any instance).
  const stopper = new AbortController();
  let untrack = () => {};
  const result = await runTurn({
    userId,
    apiKeyId,
    conversation,
    content: split.content,
    signal: AbortSignal.any([signal, stopper.signal]),
    settings: request.settings,
    events: {
      onStart: ({ assistantMessage }) => {
        untrack = trackReply(assistantMessage.id, () => stopper.abort());
        onId(`chatcmpl-${assistantMessage.id}`);
      },
      onDelta,
    },
  }).finally(() => untrack());
  const m = result.assistantMessage;
  const prompt = m.promptTokens ?? 0;
  const completion = m.completionTokens ?? 0;
  return {
    id: `chatcmpl-${m.id}`,
    text: m.content,
    finishReason: openAiFinishReason(m.finishReason),
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    conversationId: conversation.id,
    problem: result.problem,
  };
}

export async function completeChat(prepared: Prepared, signal: AbortSignal) {
  const { request } = prepared;
  let id = "";
  const final = await execute(prepared, signal, () => {}, (value) => (id = value));
  if (final.problem) throw final.problem;
  return {
    id: final.id || id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message: { role: "assistant", content: final.text, refusal: null }, finish_reason: final.finishReason, logprobs: null }],
    usage: final.usage,
    system_fingerprint: null,
    conversation_id: final.conversationId,
  };
}

/** Streams OpenAI `chat.completion.chunk` events; a provider failure ends with an `error` event. */
export function streamChat(prepared: Prepared, requestSignal: AbortSignal): Response {
  const { request } = prepared;
  const created = Math.floor(Date.now() / 1000);
  const errorEvent = (error: AppError) => sseData({ error: { message: error.message, type: error.code, code: error.code, param: null } });
  return sseResponse({
    requestSignal,
    status: 200,
    run: async ({ send, signal }) => {
      let id = "";
      const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        send(sseData({ id, object: "chat.completion.chunk", created, model: request.model, system_fingerprint: null, choices, ...extra }));
      try {
        const final = await execute(
          prepared,
          signal,
          (delta) => chunk([{ index: 0, delta: { content: delta }, finish_reason: null }]),
          (value) => {
            id = value;
            chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
          },
        );
        if (final.problem) {
          send(errorEvent(final.problem));
          return;
        }
        chunk([{ index: 0, delta: {}, finish_reason: final.finishReason }], { conversation_id: final.conversationId });
        if (request.includeUsage) chunk([], { usage: final.usage, conversation_id: final.conversationId });
      } catch (error) {
        if (!(error instanceof AppError)) log.error({ err: error }, "completion failed");
        send(errorEvent(error instanceof AppError ? error : new AppError("internal_error", "The completion could not be finished.")));
      }
    },
  });
}
