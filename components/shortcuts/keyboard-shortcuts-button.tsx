"use client";

import { Button } from "@/components/ui/button";
import { OPEN_SHORTCUTS } from "./keyboard-shortcuts";

export function KeyboardShortcutsButton() {
  return (
    <Button type="button" variant="secondary" onClick={() => window.dispatchEvent(new Event(OPEN_SHORTCUTS))}>
      Show shortcuts
    </Button>
  );
}
