import { Chat } from "@/components/chat/chat";
import { env } from "@/lib/env";
import { defaultModelId } from "@/lib/ai/providers";

export const dynamic = "force-dynamic";

export default function NewChatPage() {
  return <Chat key="new" conversationId={null} initialMessages={[]} model={defaultModelId()} maxMessageChars={env.MAX_MESSAGE_CHARS} title="New chat" />;
}
