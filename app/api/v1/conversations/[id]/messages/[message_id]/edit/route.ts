import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { admitModelCall, admitted } from "@/lib/chat/admit";
import { replyResponse, wantsStream } from "@/lib/chat/respond";
import { countTextTokensAsync } from "@/lib/context/tokens";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { rewindForEdit } from "@/lib/db/queries/rewind";
import { editMessageSchema } from "../../../../schema";

export const dynamic = "force-dynamic";

/** Changes a user message's text, deletes every later message and generates a new reply to it. */
export const POST = withAuth(
  async ({ user, apiKey, params, body, request }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    // 422 or 429 before anything changes.
    const admission = await admitModelCall({ caller: { user, apiKey }, model: conversation.model, stored: true });
    const family = admission.resolved.info.tokenizer;
    return admitted(admission, async () => {
      const rewound = await rewindForEdit({
        conversationId: conversation.id,
        userId: user.id,
        messageId: params.message_id ?? "",
        content: body.content,
        tokens: { count: await countTextTokensAsync(body.content, family), family },
      });
      const reply = { userId: user.id, apiKeyId: apiKey?.id ?? null, ...rewound, fresh: true, payer: admission.payer, reservation: admission.reservation };
      return replyResponse(reply, { stream: wantsStream(request, body.stream), status: 201 });
    });
  },
  { body: editMessageSchema, scope: "conversations:write", rateLimit: "chat" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
