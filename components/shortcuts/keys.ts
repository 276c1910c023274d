/** Pure key matching for the global shortcuts: no DOM, so it is unit-tested under Node. */

type ShortcutAction = "new-chat" | "focus-composer" | "stop" | "search" | "help";

export type KeyInput = { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean };

export type KeyContext = {
  isMac: boolean;
  /** Focus is in an input, textarea, select or contenteditable. */
  typing: boolean;
  /** A reply is streaming (a Stop button is on the page). */
  streaming: boolean;
};

type Shortcut = { action: ShortcutAction; description: string; keys: (isMac: boolean) => string[] };

const mod = (isMac: boolean) => (isMac ? "⌘" : "Ctrl");

export const SHORTCUTS: Shortcut[] = [
  { action: "new-chat", description: "New chat", keys: (isMac) => [mod(isMac), "Shift", "O"] },
  { action: "focus-composer", description: "Focus the message box", keys: () => ["Shift", "Esc"] },
  { action: "stop", description: "Stop the reply being written", keys: () => ["Esc"] },
  { action: "search", description: "Search conversations", keys: (isMac) => [mod(isMac), "K"] },
  { action: "help", description: "Show keyboard shortcuts", keys: () => ["?"] },
];

export function isMacPlatform(platform: string | undefined): boolean {
  return /mac|iphone|ipad|ipod/i.test(platform ?? "");
}

/** The action a key press triggers, or null. */
export function matchShortcut(event: KeyInput, context: KeyContext): ShortcutAction | null {
  const key = event.key.toLowerCase();
  // ⌘ on a Mac, Ctrl elsewhere; the other one must not be held (Ctrl+⌘+K is not ours).
  const modifier = context.isMac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  const noModifier = !event.ctrlKey && !event.metaKey && !event.altKey;

  if (modifier && event.shiftKey && !event.altKey && key === "o") return "new-chat";
  if (modifier && !event.shiftKey && !event.altKey && key === "k") return "search";
  if (key === "escape" && noModifier) {
    if (event.shiftKey) return "focus-composer";
    return context.streaming ? "stop" : null;
  }
  // "?" is Shift+/ on most layouts, so Shift is allowed; in a text field it is just a character.
  if (event.key === "?" && noModifier && !context.typing) return "help";
  return null;
}
