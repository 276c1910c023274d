import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { completeChat, prepareCompletion, streamChat, type CompletionRequest } from "@/lib/chat/completions";
import { chatCompletionSchema } from "./schema";

export const dynamic = "force-dynamic";

/** OpenAI-compatible: the official `openai` client works with baseURL `<host>/api/v1`. */
export const POST = withAuth(
  async ({ user, apiKey, body, request }) => {
    const stop = body.stop ?? undefined;
    const completion: CompletionRequest = {
      model: body.model,
      messages: body.messages,
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      store: body.store !== false,
      conversationId: body.conversation_id,
      settings: {
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
        stopSequences: typeof stop === "string" ? [stop] : stop,
      },
    };
    // 400 (messages), 404 (model), 400 context_length_exceeded, 422/429 (budget) before any response starts.
    const prepared = await prepareCompletion({ user, apiKey }, completion);
    if (completion.stream) return streamChat(prepared, request.signal);
    return json(await completeChat(prepared, request.signal));
  },
  { body: chatCompletionSchema, scope: "conversations:write", rateLimit: "chat", openAiCompatible: true },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
