import { z } from "zod";
import { textOfContent } from "@/lib/chat/message-text";
import { env } from "@/lib/env";

// OpenAI clients send many optional parameters; unknown ones are accepted and ignored here (the
// one route that is lenient), so existing code works unchanged. Refusals are 400
// `invalid_request_error`, as OpenAI answers them.
const contentPart = z.looseObject({
  type: z.literal("text", "only text content parts are supported"),
  text: z.string().max(env.MAX_MESSAGE_CHARS, `must be at most ${env.MAX_MESSAGE_CHARS} characters`),
});

const chatMessage = z
  .looseObject({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z
      .union([z.string().max(env.MAX_MESSAGE_CHARS, `must be at most ${env.MAX_MESSAGE_CHARS} characters`), z.array(contentPart).max(100)])
      .nullable()
      .optional()
      .describe(`At most MAX_MESSAGE_CHARS (${env.MAX_MESSAGE_CHARS}) characters; text parts are joined with a blank line between them`),
    name: z.string().optional(),
  })
  .refine((m) => textOfContent(m.content).length <= env.MAX_MESSAGE_CHARS, {
    message: `must be at most ${env.MAX_MESSAGE_CHARS} characters`,
    path: ["content"],
  });

export const chatCompletionSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(chatMessage).min(1).max(1_000),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  n: z.literal(1).nullable().optional(),
  /** false: do not record this call as a conversation. */
  store: z.boolean().nullable().optional(),
  /** BOT GPT extension: continue this conversation (the server's stored history is used). */
  conversation_id: z.uuid().optional(),
  user: z.string().max(256).optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionSchema>;
