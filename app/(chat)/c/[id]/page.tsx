import { notFound } from "next/navigation";
import { Chat } from "@/components/chat/chat";
import { toChatMessages, usageOf } from "@/components/chat/types";
import { AppError } from "@/lib/api/errors";
import { serializeConversation, serializeDocument, serializeMessages } from "@/lib/api/serialize";
import { requirePageUser } from "@/lib/auth/current-user";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { listAttachedDocuments } from "@/lib/db/queries/documents";
import { listFeedback } from "@/lib/db/queries/feedback";
import { listAllMessages } from "@/lib/db/queries/messages";

export const dynamic = "force-dynamic";

export default async function ConversationPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  const conversation = await getConversationOrThrow({ id, userId: user.id }).catch((error: unknown) => {
    if (error instanceof AppError && error.status === 404) notFound();
    throw error;
  });
  const [messages, attached] = await Promise.all([
    listAllMessages({ conversationId: conversation.id }).then(async (rows) =>
      serializeMessages(rows, await listFeedback({ messageIds: rows.map((m) => m.id), userId: user.id })),
    ),
    listAttachedDocuments({ conversationIds: [conversation.id] }),
  ]);
  return (
    <Chat
      key={conversation.id}
      conversationId={conversation.id}
      initialMessages={toChatMessages(messages)}
      model={conversation.model}
      title={conversation.title}
      mode={conversation.mode}
      documents={(attached.get(conversation.id) ?? []).map(serializeDocument)}
      usage={usageOf(serializeConversation(conversation))}
    />
  );
}
