import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { resolveModel } from "@/lib/ai/providers";
import { replyResponse, wantsStream } from "@/lib/chat/respond";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { rewindForRegenerate } from "@/lib/db/queries/rewind";
import { assertWithinBudget } from "@/lib/usage/budget";
import { regenerateSchema } from "../../../../schema";

export const dynamic = "force-dynamic";

/** Replaces the conversation's last reply with a new reply to the same user message. */
export const POST = withAuth(
  async ({ user, apiKey, params, body, request }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    resolveModel(conversation.model); // 422 before the old reply is deleted
    await assertWithinBudget({ userId: user.id, apiKey }); // 429 likewise
    const rewound = await rewindForRegenerate({ conversationId: conversation.id, userId: user.id, messageId: params.message_id ?? "" });
    const reply = { userId: user.id, apiKeyId: apiKey?.id ?? null, ...rewound, fresh: true };
    return replyResponse(reply, { stream: wantsStream(request, body.stream), status: 201 });
  },
  { body: regenerateSchema, scope: "conversations:write", rateLimit: "chat" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
