import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { lastEventIdOf, resumeReply } from "@/lib/chat/resume";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { getMessageOrThrow } from "@/lib/db/queries/messages";
import { resumeStreamQuerySchema } from "../../../../schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(
  async ({ user, params, query, request }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const message = await getMessageOrThrow({ id: params.message_id ?? "", conversationId: conversation.id });
    return resumeReply(message, lastEventIdOf(request, query.last_event_id));
  },
  { query: resumeStreamQuerySchema, scope: "conversations:read" },
);

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
