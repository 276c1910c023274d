import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { resolveModel } from "@/lib/ai/providers";
import { replyResponse, wantsStream } from "@/lib/chat/respond";
import { countTextTokensAsync } from "@/lib/context/tokens";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { rewindForEdit } from "@/lib/db/queries/rewind";
import { assertWithinBudget } from "@/lib/usage/budget";
import { editMessageSchema } from "../../../../schema";

export const dynamic = "force-dynamic";

/** Changes a user message's text, deletes every later message and generates a new reply to it. */
export const POST = withAuth(
  async ({ user, apiKey, params, body, request }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const family = resolveModel(conversation.model).info.tokenizer; // 422 before anything changes
    await assertWithinBudget({ userId: user.id, apiKey }); // 429 likewise
    const rewound = await rewindForEdit({
      conversationId: conversation.id,
      userId: user.id,
      messageId: params.message_id ?? "",
      content: body.content,
      tokens: { count: await countTextTokensAsync(body.content, family), family },
    });
    const reply = { userId: user.id, apiKeyId: apiKey?.id ?? null, ...rewound, fresh: true };
    return replyResponse(reply, { stream: wantsStream(request, body.stream), status: 201 });
  },
  { body: editMessageSchema, scope: "conversations:write", rateLimit: "chat" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
