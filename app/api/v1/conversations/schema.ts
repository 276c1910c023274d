import { z } from "zod";
import { pageQuerySchema } from "@/lib/api/pagination";
import { conversationModes, feedbackRatings } from "@/lib/db/schema";
import { env } from "@/lib/env";

// Patterns rather than a refine, so the OpenAPI document states both rules. Both scan once
// (linear on any input): `\S` is a search, the NUL pattern has no backtracking choice.
export const messageContentSchema = z
  .string()
  .min(1)
  .max(env.MAX_MESSAGE_CHARS, `must be at most ${env.MAX_MESSAGE_CHARS} characters`)
  .regex(/\S/, "must not be blank")
  .regex(/^[^\u0000]*$/, "must not contain NUL characters");

const titleSchema = z.string().trim().min(1).max(200);
const modelSchema = z.string().min(3).max(200);
const systemPromptSchema = z.string().max(20_000).nullable();
const temperatureSchema = z
  .number()
  .min(0)
  .max(2)
  .nullable()
  .describe("Sampling temperature for replies; null = the provider's default. At 0, repeated requests are answered from the response cache");
const documentIdsSchema = z.array(z.uuid()).max(100, "attach at most 100 documents to a conversation");

export const createConversationSchema = z.strictObject({
  first_message: messageContentSchema.optional(),
  title: titleSchema.optional(),
  mode: z.enum(conversationModes).optional(),
  model: modelSchema.optional(),
  system_prompt: systemPromptSchema.optional(),
  temperature: temperatureSchema.optional(),
  document_ids: documentIdsSchema.optional(),
  stream: z.boolean().optional(),
});

export const updateConversationSchema = z.strictObject({
  title: titleSchema.optional(),
  pinned: z.boolean().optional(),
  archived: z.boolean().optional(),
  mode: z.enum(conversationModes).optional(),
  model: modelSchema.optional(),
  system_prompt: systemPromptSchema.optional(),
  temperature: temperatureSchema.optional(),
  document_ids: documentIdsSchema.optional(),
});

const booleanFlag = z.enum(["true", "false"]).transform((v) => v === "true");

export const listConversationsQuerySchema = pageQuerySchema.extend({
  q: z.string().trim().min(1).max(200).optional(),
  archived: booleanFlag.default(false),
  pinned: booleanFlag.optional().describe("Only pinned (true) or only unpinned (false) conversations; both when omitted"),
});

export const postMessageSchema = z.strictObject({
  content: messageContentSchema,
  stream: z.boolean().optional(),
});

export const regenerateSchema = z.strictObject({
  stream: z.boolean().optional(),
});

export const editMessageSchema = z.strictObject({
  content: messageContentSchema.describe("The message's new text; every later message is replaced by the new reply"),
  stream: z.boolean().optional(),
});

export const feedbackSchema = z.strictObject({
  rating: z.enum(feedbackRatings),
  comment: z.string().trim().max(2_000).nullable().optional(),
});

export const resumeStreamQuerySchema = z.strictObject({
  last_event_id: z.coerce
    .number()
    .int()
    .min(0)
    .max(999_999_999)
    .optional()
    .describe("Resume after this event id; for clients that cannot send the Last-Event-ID header (the header wins)"),
});

export const listMessagesQuerySchema = pageQuerySchema.extend({
  order: z
    .enum(["asc", "desc"])
    .default("asc")
    .describe("`asc` pages from the first message forward; `desc` from the newest back (how a chat view loads older messages as you scroll up)"),
});

export const getConversationQuerySchema = z.strictObject({
  message_limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe("Only the newest N messages (still in seq order); page further back with GET …/messages?order=desc"),
});
