import { apiCall, type Problem } from "@/components/api-client";
import type { ConversationResource } from "@/lib/api/resources";
import type { StoredMessage } from "./types";

/** A refused send's problem+json; `resets_at` comes with `budget_exceeded`. */
export type Refusal = Problem & { resets_at?: string };

/** The conversation with its newest messages (a turn's refresh needs no more than the last few). */
export async function fetchConversation(id: string, messageLimit = 10): Promise<{ conversation: ConversationResource; messages: StoredMessage[] } | null> {
  return apiCall<{ conversation: ConversationResource; messages: StoredMessage[] }>(`/conversations/${id}?message_limit=${messageLimit}`, {
    fallback: "Could not load the conversation.",
  }).catch(() => null);
}

/** The page of messages before a cursor (the newest page without one), newest first. */
export async function fetchOlderMessages(id: string, cursor: string | null): Promise<{ data: StoredMessage[]; next_cursor: string | null }> {
  const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
  return apiCall(`/conversations/${id}/messages?order=desc&limit=50${after}`, { fallback: "Could not load earlier messages." });
}

/**
 * The problem behind a failed send when the server refused the request outright (4xx/5xx before
 * any stream). The AI SDK's transport throws such a response's body as the error message; a
 * failure inside the stream carries a plain sentence instead, and yields null here.
 */
export function refusalOf(error: Error | undefined): Refusal | null {
  if (!error?.message.trimStart().startsWith("{")) return null;
  try {
    const body: unknown = JSON.parse(error.message);
    if (typeof body !== "object" || body === null || !("code" in body) || typeof body.code !== "string") return null;
    return body as Refusal;
  } catch {
    return null;
  }
}
