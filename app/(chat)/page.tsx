import { Chat } from "@/components/chat/chat";
import { defaultModelId } from "@/lib/ai/providers";

export const dynamic = "force-dynamic";

export default function NewChatPage() {
  return <Chat key="new" conversationId={null} initialMessages={[]} model={defaultModelId()} title="New chat" />;
}
