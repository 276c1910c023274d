import { AppError, openAiError } from "@/lib/api/errors";
import { chooseModel } from "@/lib/ai/catalog";
import type { ResolvedModel } from "@/lib/ai/providers";
import { createConversation, getConversationOrThrow } from "@/lib/db/queries/conversations";
import { assembleContext, defaultSafetyMargin, fitSystemPrompt, systemTokenLimit, type HistoryMessage } from "@/lib/context/assemble";
import { countTextTokensAsync, messageOverheadTokens, replyPrimingTokens, withTokenCounts, type TokenizerFamily } from "@/lib/context/tokens";
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
import { admitted, chainFor, holdBudget, type Admission, type Caller } from "./admit";
import { textOfContent, type MessageContent } from "./message-text";

/**
 * The OpenAI-compatible chat completions endpoint on top of the same turn machinery: the same
 * providers, persistence and usage accounting. A call is recorded as a conversation unless the
 * caller sends `store: false`; `conversation_id` continues one (its stored history is used).
 *
 * Where OpenAI's behaviour is the contract it is followed: the messages are sent as given or the
 * call is 400 `context_length_exceeded` (never cut to fit); a provider outage is the provider's
 * error, not the offline model's text dressed as a completion (no offline fallback here); a
 * configured fallback model that answers is named in `model`, with `fallback_used: true`.
 */

type InMessage = { role: string; content?: MessageContent };

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
type Final = {
  id: string;
  text: string;
  finishReason: string;
  usage: Usage;
  conversationId: string | null;
  /** The model that answered, and whether it was a fallback for the requested one. */
  model: string;
  fallbackUsed: boolean;
  problem: AppError | null;
};

const textOf = textOfContent;

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
  counted: Counted,
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
  // The caller's earlier turns become the stored history the model will see (counted already).
  for (const m of counted.history.slice(0, -1)) {
    await appendMessage({
      conversationId: conversation.id,
      userId,
      role: m.role,
      content: m.content,
      tokens: { count: m.tokens ?? (await countTextTokensAsync(m.content, counted.family)), family: counted.family },
    });
  }
  return conversation;
}

/**
 * The caller's messages, oldest first, and the system text, with their token counts in one
 * tokenizer family: counted once, in slices that yield to the event loop (request input can be
 * large).
 */
type Counted = { family: TokenizerFamily; history: HistoryMessage[]; systemTokens: number | null };

async function countHistory(split: ReturnType<typeof splitRequest>, family: TokenizerFamily): Promise<Counted> {
  const messages = [...split.history, { role: "user", content: split.content }].map((m, i) => ({
    seq: i + 1,
    role: m.role === "assistant" ? ("assistant" as const) : ("user" as const),
    content: textOf(m.content),
    tokens: null,
  }));
  const history = await withTokenCounts<HistoryMessage>(messages, family);
  const systemTokens = split.system === null ? null : await countTextTokensAsync(split.system, family);
  return { family, history, systemTokens };
}

type Prepared = {
  userId: string;
  apiKeyId: string | null;
  request: CompletionRequest;
  admission: Admission;
  split: ReturnType<typeof splitRequest>;
  counted: Counted;
  conversation: Conversation | null;
};

/**
 * The output room for the messages as sent, or 400 `context_length_exceeded`: they and the
 * requested completion must fit the model's window less the safety margin, and the window's
 * shares (the system messages at most a quarter) must hold them uncut.
 */
function fitToWindow(split: ReturnType<typeof splitRequest>, counted: Counted, model: ResolvedModel, requestedOutput: number | undefined): { promptTokens: number; maxOutputTokens: number } {
  const { info } = model;
  const family = info.tokenizer;
  const { history } = counted;
  const system = counted.systemTokens === null ? 0 : counted.systemTokens + messageOverheadTokens(family);
  const promptTokens = history.reduce((sum, m) => sum + (m.tokens ?? 0) + messageOverheadTokens(family), system + replyPrimingTokens(family));
  const room = info.contextWindow - defaultSafetyMargin(info.contextWindow) - promptTokens;
  const maxOutputTokens = requestedOutput ?? Math.min(replyTokens(info), room);
  const tooLong = (why: string) =>
    new AppError(
      "context_length_exceeded",
      `${model.id} has a ${info.contextWindow.toLocaleString("en-US")}-token context window; ${why}. Shorten the messages${requestedOutput ? " or max_tokens" : ""}.`,
      { extensions: { model: model.id, context_window: info.contextWindow, prompt_tokens: promptTokens }, errors: [{ path: "messages", message: why }] },
    );
  if (maxOutputTokens < 1 || maxOutputTokens > room) {
    throw tooLong(`this request asks for ${(promptTokens + Math.max(0, requestedOutput ?? 0)).toLocaleString("en-US")} tokens (${promptTokens.toLocaleString("en-US")} in the messages${requestedOutput ? `, ${requestedOutput.toLocaleString("en-US")} for the completion` : ""}), and it must leave room for a safety margin`);
  }
  const reserved = replyTokens(info, maxOutputTokens);
  // Over its share, the system text would be cut (a synchronous pass over all of it) only to refuse.
  if (counted.systemTokens !== null && counted.systemTokens > systemTokenLimit(info, reserved)) {
    throw tooLong("the system messages may take at most a quarter of it, and these take more");
  }
  const fitted = assembleContext({ model: info, reservedOutputTokens: reserved, system: split.system, systemTokens: counted.systemTokens ?? undefined, summary: null, passages: [], history });
  if (fitted.truncated || fitted.omittedMessages > 0 || fitted.messages.length < history.length) {
    throw tooLong("the system messages may take at most a quarter of it, and these take more");
  }
  return { promptTokens, maxOutputTokens };
}

/**
 * Everything that can fail as a request error (400, 404, 422, 429) happens here, before any
 * response is started — a stream cannot change its status once it has begun.
 */
export async function prepareCompletion(caller: Caller, request: CompletionRequest): Promise<Prepared> {
  const split = splitRequest(request.messages);
  const resolved = await chooseModel(request.model);
  const counted = await countHistory(split, resolved.info.tokenizer);
  const fit = fitToWindow(split, counted, resolved, request.settings.maxOutputTokens);
  const settings = { ...request.settings, maxOutputTokens: fit.maxOutputTokens };
  // Continuing a stored conversation sends its history (and passages), not only these messages:
  // hold what the window allows, as a turn does, until the exact request is known.
  const promptTokens = request.conversationId ? undefined : fit.promptTokens;
  const admission = await holdBudget({ caller, resolved, maxOutputTokens: fit.maxOutputTokens, promptTokens });
  const prepared = { userId: caller.user.id, apiKeyId: caller.apiKey?.id ?? null, request: { ...request, settings }, admission, split, counted };
  return admitted(admission, async () => ({
    ...prepared,
    conversation: request.store ? await conversationFor(prepared.userId, prepared.request, split, counted) : null,
  }));
}

async function execute(prepared: Prepared, signal: AbortSignal, onDelta: (delta: string) => void, onId: (id: string) => void): Promise<Final> {
  const { conversation, admission } = prepared;
  try {
    return conversation ? await executeStored(prepared, conversation, signal, onDelta, onId) : await executeStateless(prepared, signal, onDelta, onId);
  } finally {
    // Settled with the usage unless the call ended before recording any.
    await admission.reservation?.release();
  }
}

async function executeStateless(prepared: Prepared, signal: AbortSignal, onDelta: (delta: string) => void, onId: (id: string) => void): Promise<Final> {
  const { userId, apiKeyId, request, split, counted, admission } = prepared;
  const { resolved, reservation } = admission;
  const id = `chatcmpl-${crypto.randomUUID()}`;
  onId(id);
  // The requested model gets the messages as sent (fitToWindow checked they fit); a fallback
  // with a smaller window gets the newest that fit it.
  // Counted per tokenizer family before assembling (a fallback may count differently), yielding.
  const families = new Map<TokenizerFamily, Promise<Counted>>([[counted.family, Promise.resolve(counted)]]);
  const prepare = async (model: ResolvedModel): Promise<PreparedRequest> => {
    const maxOutputTokens = replyTokens(model.info, request.settings.maxOutputTokens);
    const family = model.info.tokenizer;
    let forFamily = families.get(family);
    if (!forFamily) families.set(family, (forFamily = countHistory(split, family)));
    const { history, systemTokens } = await forFamily;
    // A fallback with a smaller window gets the system text cut to its share, counted in slices.
    const system =
      systemTokens !== null && systemTokens > systemTokenLimit(model.info, maxOutputTokens)
        ? await fitSystemPrompt(split.system, model.info, maxOutputTokens)
        : { system: split.system, systemTokens: systemTokens ?? undefined };
    const context = assembleContext({
      model: model.info,
      reservedOutputTokens: maxOutputTokens,
      ...system,
      summary: null,
      passages: [],
      history,
    });
    return { system: context.system, messages: context.messages, requestTokens: context.tokens.total, maxOutputTokens };
  };
  const chain = chainFor(resolved, admission.payer, { offline: false });
  const outcome = await generate({ userId, chain, prepare, settings: request.settings, signal, reservation, onDelta: (d) => onDelta(d) });
  const { usage } = outcome;
  const answered = outcome.resolved;
  await recordUsage(await getDb(), {
    userId,
    apiKeyId,
    kind: "chat",
    provider: answered.provider,
    model: answered.id,
    ...usage,
    cached: outcome.cached,
    reservationId: reservation?.id ?? null,
  });
  reservation?.markSettled();
  return {
    id,
    text: outcome.text,
    finishReason: openAiFinishReason(outcome.finishReason),
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
    conversationId: null,
    model: answered.id,
    fallbackUsed: outcome.fallbackUsed,
    problem: outcome.problem,
  };
}

async function executeStored(
  prepared: Prepared,
  conversation: Conversation,
  signal: AbortSignal,
  onDelta: (delta: string) => void,
  onId: (id: string) => void,
): Promise<Final> {
  const { userId, apiKeyId, request, split, admission } = prepared;
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
    payer: admission.payer,
    reservation: admission.reservation,
    offlineFallback: false,
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
    model: m.model ?? request.model,
    fallbackUsed: m.fallbackUsed ?? false,
    problem: result.problem,
  };
}

export async function completeChat(prepared: Prepared, signal: AbortSignal) {
  let id = "";
  const final = await execute(prepared, signal, () => {}, (value) => (id = value));
  if (final.problem) throw final.problem;
  return {
    id: final.id || id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: final.model,
    choices: [{ index: 0, message: { role: "assistant", content: final.text, refusal: null }, finish_reason: final.finishReason, logprobs: null }],
    usage: final.usage,
    system_fingerprint: null,
    conversation_id: final.conversationId,
    fallback_used: final.fallbackUsed,
  };
}

/** Streams OpenAI `chat.completion.chunk` events; a provider failure ends with an `error` event. */
export function streamChat(prepared: Prepared, requestSignal: AbortSignal): Response {
  const { request } = prepared;
  const created = Math.floor(Date.now() / 1000);
  const errorEvent = (error: AppError) => sseData({ error: openAiError(error.toProblem()) });
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
        // The last chunks name the model that answered (a fallback, when `fallback_used`).
        const outcome = { model: final.model, conversation_id: final.conversationId, fallback_used: final.fallbackUsed };
        chunk([{ index: 0, delta: {}, finish_reason: final.finishReason }], outcome);
        if (request.includeUsage) chunk([], { usage: final.usage, ...outcome });
      } catch (error) {
        if (!(error instanceof AppError)) log.error({ err: error }, "completion failed");
        send(errorEvent(error instanceof AppError ? error : new AppError("internal_error", "The completion could not be finished.")));
      }
    },
  });
}
