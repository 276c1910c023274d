import type { UIMessage } from "ai";

/** Metadata the server attaches to assistant messages (start + finish parts, or stored row). */
export type ChatMetadata = {
  status?: string;
  model?: string | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  cost_usd?: number | null;
  fallback_used?: boolean;
  error_detail?: string | null;
  conversation_id?: string;
  assistant_message_id?: string;
};

export type ChatMessage = UIMessage<ChatMetadata>;

export type StoredMessage = {
  id: string;
  role: "user" | "assistant" | "system";
  content: string;
  status: string;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  fallback_used: boolean;
  error: { detail?: string } | null;
};

export function toChatMessages(messages: StoredMessage[]): ChatMessage[] {
  return messages
    .filter((m) => m.role !== "system")
    .map((m) => ({
      id: m.id,
      role: m.role,
      parts: [{ type: "text" as const, text: m.content }],
      metadata: {
        status: m.status,
        model: m.model,
        prompt_tokens: m.prompt_tokens,
        completion_tokens: m.completion_tokens,
        cost_usd: m.cost_usd,
        fallback_used: m.fallback_used,
        error_detail: m.error?.detail ?? null,
      },
    }));
}
