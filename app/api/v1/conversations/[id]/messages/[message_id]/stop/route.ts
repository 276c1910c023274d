import { json, withAuth } from "@/lib/api/handler";
import { serializeMessage } from "@/lib/api/serialize";
import { stopReply } from "@/lib/chat/resume";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { getMessageOrThrow } from "@/lib/db/queries/messages";

export const dynamic = "force-dynamic";

export const POST = withAuth(
  async ({ user, params }) => {
    const conversation = await getConversationOrThrow({ id: params.id ?? "", userId: user.id });
    const message = await getMessageOrThrow({ id: params.message_id ?? "", conversationId: conversation.id });
    const stopped = await stopReply(message);
    return json(serializeMessage(stopped.message), stopped.settled ? 200 : 202);
  },
  { scope: "conversations:write" },
);
