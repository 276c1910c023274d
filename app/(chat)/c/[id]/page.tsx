import { notFound } from "next/navigation";
import { Chat } from "@/components/chat/chat";
import { toChatMessages, usageOf } from "@/components/chat/types";
import { AppError } from "@/lib/api/errors";
import { serializeConversation, serializeDocument, serializeMessagesFor } from "@/lib/api/serialize";
import { requirePageUser } from "@/lib/auth/current-user";
import { env } from "@/lib/env";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { listAttachedDocuments } from "@/lib/db/queries/documents";
import { listMessagesPage } from "@/lib/db/queries/messages";

/** A long conversation opens on its newest messages; older ones load as the reader scrolls up. */
const FIRST_PAGE = 50;

export const dynamic = "force-dynamic";

export default async function ConversationPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  const conversation = await getConversationOrThrow({ id, userId: user.id }).catch((error: unknown) => {
    if (error instanceof AppError && error.status === 404) notFound();
    throw error;
  });
  const [newest, attached] = await Promise.all([
    listMessagesPage({ userId: user.id, conversationId: conversation.id, limit: FIRST_PAGE, order: "desc" }).then(async (page) => ({
      messages: await serializeMessagesFor(page.rows.reverse(), user.id),
      olderCursor: page.nextCursor,
    })),
    listAttachedDocuments({ conversationIds: [conversation.id] }),
  ]);
  return (
    <Chat
      key={conversation.id}
      conversationId={conversation.id}
      initialMessages={toChatMessages(newest.messages)}
      olderCursor={newest.olderCursor}
      model={conversation.model}
      maxMessageChars={env.MAX_MESSAGE_CHARS}
      title={conversation.title}
      mode={conversation.mode}
      documents={(attached.get(conversation.id) ?? []).map(serializeDocument)}
      usage={usageOf(serializeConversation(conversation))}
    />
  );
}
