import type { Metadata } from "next";
import { cookies } from "next/headers";
import { KeyboardShortcutsButton } from "@/components/shortcuts/keyboard-shortcuts-button";
import { ThemeToggle } from "@/components/settings/theme-toggle";
import { parseTheme, THEME_COOKIE } from "@/lib/theme";

export const metadata: Metadata = { title: "Appearance" };

export default async function AppearancePage() {
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">Appearance</h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">System follows your device’s light or dark setting. The choice is kept in this browser.</p>
      </header>
      <section aria-label="Theme" className="rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
        <ThemeToggle initial={theme} />
      </section>
      <section aria-labelledby="shortcuts-heading" className="flex flex-wrap items-center justify-between gap-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
        <div className="space-y-1">
          <h2 id="shortcuts-heading" className="text-sm font-medium">
            Keyboard shortcuts
          </h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Press <kbd className="rounded border border-zinc-300 px-1 font-sans text-xs dark:border-zinc-600">?</kbd> anywhere outside a text box to see them.
          </p>
        </div>
        <KeyboardShortcutsButton />
      </section>
    </div>
  );
}
