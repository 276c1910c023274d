import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeMessagesFor } from "@/lib/api/serialize";
import { stopReply } from "@/lib/chat/resume";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { getMessageOrThrow } from "@/lib/db/queries/messages";

export const dynamic = "force-dynamic";

export const POST = withAuth(
  async ({ user, params }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const message = await getMessageOrThrow({ id: params.message_id ?? "", conversationId: conversation.id });
    const stopped = await stopReply(message);
    const [body] = await serializeMessagesFor([stopped.message], user.id);
    return json(body, stopped.settled ? 200 : 202);
  },
  { scope: "conversations:write" },
);

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
