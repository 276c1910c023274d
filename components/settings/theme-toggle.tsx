"use client";

import { useId, useSyncExternalStore } from "react";
import { THEMES, themeClass, themeCookie, type Theme } from "@/lib/theme";

const THEME_CHANGED = "bot-gpt:theme-changed";
const LABELS: Record<Theme, string> = { system: "System", light: "Light", dark: "Dark" };

// <html>'s class is the source of truth: the server set it from the cookie, setTheme changes both.
function readTheme(): Theme {
  const { classList } = document.documentElement;
  return classList.contains("dark") ? "dark" : classList.contains("light") ? "light" : "system";
}

function subscribe(onChange: () => void) {
  window.addEventListener(THEME_CHANGED, onChange);
  return () => window.removeEventListener(THEME_CHANGED, onChange);
}

function setTheme(theme: Theme) {
  document.cookie = themeCookie(theme);
  const { classList } = document.documentElement;
  classList.remove("light", "dark");
  const name = themeClass(theme);
  if (name) classList.add(name);
  window.dispatchEvent(new Event(THEME_CHANGED));
}

/** System / Light / Dark as a segmented radio group; `initial` is the server's reading of the cookie. */
export function ThemeToggle({ initial = "system" }: { initial?: Theme }) {
  const theme = useSyncExternalStore(subscribe, readTheme, () => initial);
  const labelId = useId();
  const name = useId();
  return (
    <div role="radiogroup" aria-labelledby={labelId} className="flex flex-wrap items-center gap-3">
      <span id={labelId} className="text-sm font-medium">
        Theme
      </span>
      <div className="inline-flex rounded-lg border border-zinc-300 bg-zinc-100 p-0.5 dark:border-zinc-700 dark:bg-zinc-900">
        {THEMES.map((value) => (
          <label
            key={value}
            className="relative cursor-pointer rounded-md px-3 py-1 text-sm text-zinc-700 has-checked:bg-white has-checked:font-medium has-checked:text-zinc-900 has-checked:shadow-sm has-focus-visible:outline-2 has-focus-visible:outline-offset-1 has-focus-visible:outline-blue-500 dark:text-zinc-300 dark:has-checked:bg-zinc-700 dark:has-checked:text-white"
          >
            <input type="radio" name={name} value={value} checked={theme === value} onChange={() => setTheme(value)} className="sr-only" />
            {LABELS[value]}
          </label>
        ))}
      </div>
    </div>
  );
}
