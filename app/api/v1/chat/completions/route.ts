import { json, withAuth } from "@/lib/api/handler";
import { resolveModel } from "@/lib/ai/providers";
import { completeChat, streamChat, type CompletionRequest } from "@/lib/chat/completions";
import { chatCompletionSchema } from "./schema";

export const dynamic = "force-dynamic";

/** OpenAI-compatible: the official `openai` client works with baseURL `<host>/api/v1`. */
export const POST = withAuth(
  async ({ user, body, request }) => {
    resolveModel(body.model); // 422 model_not_available before anything is recorded
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
    if (completion.stream) return streamChat(user.id, completion, request.signal);
    return json(await completeChat(user.id, completion, request.signal));
  },
  { body: chatCompletionSchema, scope: "conversations:write", rateLimit: "chat", openAiCompatible: true },
);
