/** Window event the chat fires when the conversation list may have changed (new, retitled). */
export const CONVERSATIONS_CHANGED = "bgpt:conversations-changed";

export function announceConversationsChanged(): void {
  window.dispatchEvent(new Event(CONVERSATIONS_CHANGED));
}
