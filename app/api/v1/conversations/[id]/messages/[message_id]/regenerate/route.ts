import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { admitModelCall, admitted } from "@/lib/chat/admit";
import { replyResponse, wantsStream } from "@/lib/chat/respond";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { rewindForRegenerate } from "@/lib/db/queries/rewind";
import { regenerateSchema } from "../../../../schema";

export const dynamic = "force-dynamic";

/** Replaces the conversation's last reply with a new reply to the same user message. */
export const POST = withAuth(
  async ({ user, apiKey, params, body, request }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    // 422 or 429 before the old reply is deleted.
    const admission = await admitModelCall({ caller: { user, apiKey }, model: conversation.model, stored: true });
    return admitted(admission, async () => {
      const rewound = await rewindForRegenerate({ conversationId: conversation.id, userId: user.id, messageId: params.message_id ?? "" });
      const reply = { userId: user.id, apiKeyId: apiKey?.id ?? null, ...rewound, fresh: true, payer: admission.payer, reservation: admission.reservation };
      return replyResponse(reply, { stream: wantsStream(request, body.stream), status: 201 });
    });
  },
  { body: regenerateSchema, scope: "conversations:write", rateLimit: "chat" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
