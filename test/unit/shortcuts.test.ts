import { describe, expect, it } from "vitest";
import { isMacPlatform, matchShortcut, SHORTCUTS, type KeyContext, type KeyInput } from "@/components/shortcuts/keys";

const press = (key: string, mods: Partial<Omit<KeyInput, "key">> = {}): KeyInput => ({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
const pc: KeyContext = { isMac: false, typing: false, streaming: false };
const mac: KeyContext = { ...pc, isMac: true };

describe("matchShortcut", () => {
  it("opens a new chat with Ctrl+Shift+O, or ⌘+Shift+O on a Mac", () => {
    expect(matchShortcut(press("O", { ctrlKey: true, shiftKey: true }), pc)).toBe("new-chat");
    expect(matchShortcut(press("o", { metaKey: true, shiftKey: true }), mac)).toBe("new-chat");
    expect(matchShortcut(press("O", { metaKey: true, shiftKey: true }), pc)).toBeNull();
    expect(matchShortcut(press("O", { ctrlKey: true, shiftKey: true }), mac)).toBeNull();
    expect(matchShortcut(press("o", { ctrlKey: true }), pc)).toBeNull();
  });

  it("works while typing, since it needs a modifier", () => {
    expect(matchShortcut(press("O", { ctrlKey: true, shiftKey: true }), { ...pc, typing: true })).toBe("new-chat");
    expect(matchShortcut(press("k", { ctrlKey: true }), { ...pc, typing: true })).toBe("search");
  });

  it("searches with Ctrl/⌘+K but not with Shift or both modifiers", () => {
    expect(matchShortcut(press("k", { ctrlKey: true }), pc)).toBe("search");
    expect(matchShortcut(press("k", { metaKey: true }), mac)).toBe("search");
    expect(matchShortcut(press("K", { ctrlKey: true, shiftKey: true }), pc)).toBeNull();
    expect(matchShortcut(press("k", { ctrlKey: true, metaKey: true }), mac)).toBeNull();
  });

  it("focuses the composer with Shift+Esc, streaming or not", () => {
    expect(matchShortcut(press("Escape", { shiftKey: true }), pc)).toBe("focus-composer");
    expect(matchShortcut(press("Escape", { shiftKey: true }), { ...pc, streaming: true, typing: true })).toBe("focus-composer");
    expect(matchShortcut(press("Escape", { shiftKey: true, ctrlKey: true }), pc)).toBeNull();
  });

  it("stops with Esc only while a reply streams", () => {
    expect(matchShortcut(press("Escape"), pc)).toBeNull();
    expect(matchShortcut(press("Escape"), { ...pc, streaming: true })).toBe("stop");
    expect(matchShortcut(press("Escape"), { ...pc, streaming: true, typing: true })).toBe("stop");
  });

  it("shows help on ? outside text fields only", () => {
    expect(matchShortcut(press("?", { shiftKey: true }), pc)).toBe("help");
    expect(matchShortcut(press("?"), pc)).toBe("help");
    expect(matchShortcut(press("?", { shiftKey: true }), { ...pc, typing: true })).toBeNull();
    expect(matchShortcut(press("?", { ctrlKey: true }), pc)).toBeNull();
    expect(matchShortcut(press("/", { shiftKey: true }), pc)).toBeNull();
  });

  it("ignores other keys", () => {
    expect(matchShortcut(press("a"), pc)).toBeNull();
    expect(matchShortcut(press("Enter"), { ...pc, streaming: true })).toBeNull();
  });
});

describe("labels", () => {
  it("names the modifier per platform", () => {
    const newChat = SHORTCUTS.find((s) => s.action === "new-chat")!;
    expect(newChat.keys(true)).toEqual(["⌘", "Shift", "O"]);
    expect(newChat.keys(false)).toEqual(["Ctrl", "Shift", "O"]);
  });

  it("recognises Apple platforms", () => {
    expect(isMacPlatform("MacIntel")).toBe(true);
    expect(isMacPlatform("macOS")).toBe(true);
    expect(isMacPlatform("iPhone")).toBe(true);
    expect(isMacPlatform("Win32")).toBe(false);
    expect(isMacPlatform("Linux x86_64")).toBe(false);
    expect(isMacPlatform(undefined)).toBe(false);
  });
});
