import { describe, expect, it } from "vitest";
import { withStoredMetadata, type ChatMessage, type StoredMessage } from "@/components/chat/types";

function stored(overrides: Partial<StoredMessage> & Pick<StoredMessage, "id" | "seq" | "role" | "content">): StoredMessage {
  return {
    conversation_id: "c0000000-0000-4000-8000-000000000000",
    status: "complete",
    model: null,
    provider: null,
    fallback_used: false,
    prompt_tokens: null,
    completion_tokens: null,
    cached_tokens: null,
    usage_estimated: false,
    cached: false,
    cost_usd: null,
    latency_ms: null,
    ttft_ms: null,
    finish_reason: null,
    citations: [],
    retrieval: null,
    context: null,
    error: null,
    feedback: null,
    created_at: new Date(0).toISOString(),
    ...overrides,
  };
}

const shown: ChatMessage[] = [
  { id: "client-generated", role: "user", parts: [{ type: "text", text: "hi" }] },
  { id: "a1", role: "assistant", parts: [{ type: "text", text: "hello" }] },
];

describe("withStoredMetadata", () => {
  it("gives a user message sent from the page its stored id (edits go by it) and carries the stored rating", () => {
    const merged = withStoredMetadata(shown, [
      stored({ id: "u1", seq: 1, role: "user", content: "hi" }),
      stored({ id: "a1", seq: 2, role: "assistant", content: "hello", feedback: { rating: "up", comment: null } }),
    ]);
    expect(merged.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(merged[1]?.metadata?.feedback).toEqual({ rating: "up", comment: null });
    expect(merged[0]?.parts).toBe(shown[0]?.parts);
  });

  it("keeps the shown list when the stored reply is a different one", () => {
    const rows = [stored({ id: "u1", seq: 1, role: "user", content: "hi" }), stored({ id: "a2", seq: 2, role: "assistant", content: "other" })];
    expect(withStoredMetadata(shown, rows)).toBe(shown);
  });
});
