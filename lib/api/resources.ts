import { z } from "zod";
import { TOKENIZER_FAMILIES } from "@/lib/context/tokenizer-families";
import { apiKeyScopes, conversationModes, documentMimeTypes, documentStatuses, messageStatuses } from "@/lib/db/schema";
import { errorCatalog, type ErrorCode } from "./errors";

/**
 * Wire shapes of the API's responses. Serializers are typed against these, the OpenAPI document
 * is generated from them, and tests validate real responses with the generated JSON Schema.
 */

const timestamp = z.iso.datetime({ offset: true }).describe("RFC 3339 timestamp, UTC");
const id = z.uuid();

export const problemResource = z
  .object({
    type: z.string().describe("URI identifying the error type; ends with the code"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.enum(Object.keys(errorCatalog) as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe("Only for validation errors"),
  })
  .catchall(z.unknown())
  .describe("RFC 9457 problem details (application/problem+json)");

export const conversationResource = z.object({
  id,
  title: z.string(),
  mode: z.enum(conversationModes),
  model: z.string().describe("provider:model id"),
  system_prompt: z.string().nullable(),
  temperature: z.number().nullable().describe("Sampling temperature; null = the provider's default"),
  document_ids: z.array(id),
  pinned: z.boolean(),
  archived: z.boolean(),
  message_count: z.number().int(),
  total_tokens: z.number().int().describe("Prompt + completion tokens of every model call in the conversation, summaries included"),
  total_cost_usd: z.number(),
  summary: z.string().nullable().describe("Rolling summary of messages 1…summary_through_seq, sent to the model in their place"),
  summary_through_seq: z.number().int().nullable().describe("The newest message the summary covers; null while every message still fits the window"),
  created_at: timestamp,
  updated_at: timestamp,
  last_message_at: timestamp.nullable(),
});

export const citationResource = z.object({
  index: z.number().int(),
  document_id: id,
  filename: z.string(),
  page_start: z.number().int(),
  page_end: z.number().int(),
  chunk_id: z.string(),
  score: z.number(),
  snippet: z.string(),
});

export const retrievalTraceResource = z
  .object({
    query: z.string().describe("The search query built from the message (and the previous turn for follow-ups)"),
    duration_ms: z.number(),
    candidates: z.array(
      z.object({
        chunk_id: z.string(),
        document_id: id,
        page_start: z.number().int(),
        page_end: z.number().int(),
        score: z.number(),
        lexical_score: z.number().nullable(),
        vector_score: z.number().nullable(),
        used: z.boolean().describe("Whether the passage went into the prompt (above the relevance threshold)"),
      }),
    ),
  })
  .describe("What grounded retrieval found for this reply");

export const contextResource = z
  .object({
    tokens: z.number().int().describe("Tokens in the request that produced this reply, by the server's count"),
    window: z.number().int().describe("The model's context window"),
    summary_through_seq: z.number().int().nullable().describe("The request carried the summary of messages 1…n instead of them"),
    included_from_seq: z.number().int().nullable().describe("The oldest message sent verbatim"),
    omitted_messages: z.number().int().describe("Older messages neither sent nor summarized yet"),
    truncated: z.boolean().describe("The system prompt, summary or latest message was cut (head and tail kept) to fit"),
  })
  .describe("What the request behind an assistant reply carried");

export const storedProblemResource = z
  .object({ type: z.string(), code: z.string(), title: z.string(), status: z.number().int(), detail: z.string().optional() })
  .describe("Why a reply failed or was interrupted");

export const messageResource = z.object({
  id,
  conversation_id: id,
  seq: z.number().int().min(1).describe("1, 2, 3… per conversation, gap-free: the order of record"),
  role: z.enum(["user", "assistant", "system"]),
  content: z.string(),
  status: z.enum(messageStatuses),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  fallback_used: z.boolean(),
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  cached_tokens: z.number().int().nullable().describe("Prompt tokens the provider served from its prompt cache (included in prompt_tokens)"),
  usage_estimated: z.boolean().describe("The provider reported no usage; the token counts are the server's"),
  cached: z.boolean().describe("Answered from the response cache: no model call, 0 tokens, no cost"),
  cost_usd: z.number().nullable(),
  latency_ms: z.number().int().nullable(),
  ttft_ms: z.number().int().nullable().describe("Time to first token"),
  finish_reason: z.string().nullable(),
  citations: z.array(citationResource).describe("Passages the reply was grounded on; `[n]` in the content refers to `index` n"),
  retrieval: retrievalTraceResource.nullable().describe("Grounded replies: the retrieval trace; null otherwise"),
  context: contextResource.nullable().describe("Assistant replies: the request's size against the window; null otherwise"),
  error: storedProblemResource.nullable(),
  feedback: z
    .object({ rating: z.enum(["up", "down"]), comment: z.string().nullable() })
    .nullable()
    .describe("Your rating of this reply (POST …/feedback); null if you have not rated it"),
  created_at: timestamp,
});

export const conversationWithMessagesResource = z.object({ conversation: conversationResource, messages: z.array(messageResource) });
export const turnResource = z.object({ user_message: messageResource, assistant_message: messageResource });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable().describe("Pass as ?cursor= for the next page; null on the last") });

export const documentResource = z.object({
  id,
  filename: z.string(),
  mime_type: z.enum(documentMimeTypes),
  size_bytes: z.number().int(),
  pages: z.number().int().nullable().describe("Known once the document has been read"),
  chunk_count: z.number().int(),
  status: z.enum(documentStatuses),
  progress: z.number().min(0).max(1),
  error: storedProblemResource.nullable().describe("Why ingestion failed (status `failed`)"),
  created_at: timestamp,
  updated_at: timestamp,
});

export const apiKeyResource = z.object({
  id,
  name: z.string(),
  prefix: z.string().describe("The key's first characters, to tell keys apart"),
  scopes: z.array(z.enum(apiKeyScopes)),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
});

export const createdApiKeyResource = apiKeyResource.extend({
  key: z.string().describe("The secret key, `bgpt_…`. Shown only in this response"),
});

export const modelResource = z.object({
  id: z.string().describe("provider:model"),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
  provider: z.string(),
  context_window: z.number().int(),
  max_output_tokens: z.number().int(),
  tokenizer: z
    .enum(TOKENIZER_FAMILIES)
    .describe("How the server counts this model's tokens: an exact OpenAI encoding, Llama 3 (bounded by cl100k) or a calibrated estimate"),
  pricing: z.object({
    input_per_million_usd: z.number(),
    cached_input_per_million_usd: z.number().describe("Input served from the provider's prompt cache"),
    output_per_million_usd: z.number(),
  }),
  priced: z
    .boolean()
    .describe("Whether the server knows this model's price; false means `pricing` is 0 for want of one, and callers under a USD budget are refused it"),
  default: z.boolean(),
  offline: z.boolean().describe("The built-in offline model: not an AI"),
});

export const modelListResource = z.object({ object: z.literal("list"), data: z.array(modelResource), next_cursor: z.null() });

export const feedbackResource = z.object({
  message_id: id,
  rating: z.enum(["up", "down"]),
  comment: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

const usageNumbers = {
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  cached_tokens: z.number().int().describe("Prompt tokens served from providers' prompt caches"),
  total_tokens: z.number().int(),
  cost_usd: z.number(),
  requests: z.number().int(),
};

const budgetPeriod = z.object({
  limit: z.number().nullable().describe("null: no limit"),
  used: z.number().describe("Spent in the period (not counting `reserved`)"),
  reserved: z.number().describe("Held by model calls in progress: their estimated spend, until their usage is recorded"),
  resets_at: timestamp,
});

export const usageResource = z.object({
  from: timestamp,
  to: timestamp,
  group_by: z.enum(["day", "model"]),
  data: z.array(z.object({ day: z.string().optional(), model: z.string().optional(), ...usageNumbers })),
  totals: z.object(usageNumbers),
  by_kind: z
    .object({ chat: z.object(usageNumbers), summary: z.object(usageNumbers), embedding: z.object(usageNumbers) })
    .describe("The totals split by what the tokens were for: replies, conversation summaries, document embeddings"),
  budget: z
    .object({ tokens_per_day: budgetPeriod, usd_per_month: budgetPeriod })
    .describe("The caller's limits (the API key's when a key calls) and what is used of them"),
  storage: z
    .object({
      bytes_used: z.number().int().describe("Bytes of the user's uploaded files (a re-upload of the same file counts once)"),
      bytes_limit: z.number().int().nullable().describe("STORAGE_QUOTA_BYTES; null: no limit"),
      documents: z.number().int(),
      documents_limit: z.number().int().nullable().describe("MAX_DOCUMENTS_PER_USER; null: no limit"),
    })
    .describe("The user's document storage and its quotas (not limited to the window); uploads past a quota get 413 `quota_exceeded`"),
});

export const chatCompletionResource = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
      finish_reason: z.string(),
      logprobs: z.null(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }),
  system_fingerprint: z.null(),
  conversation_id: id.nullable().describe("BOT GPT extension: the conversation this call was recorded in"),
  fallback_used: z
    .boolean()
    .describe("BOT GPT extension: the requested model failed and a FALLBACK_MODELS model answered; `model` names it"),
});

export type ConversationResource = z.infer<typeof conversationResource>;
export type MessageResource = z.infer<typeof messageResource>;
export type ApiKeyResource = z.infer<typeof apiKeyResource>;
export type DocumentResource = z.infer<typeof documentResource>;
export type CitationResource = z.infer<typeof citationResource>;
export type RetrievalTraceResource = z.infer<typeof retrievalTraceResource>;
export type ModelResource = z.infer<typeof modelResource>;
export type ContextResource = z.infer<typeof contextResource>;
export type UsageResource = z.infer<typeof usageResource>;
