import { expect, type Locator, type Page } from "@playwright/test";

export class SettingsPage {
  readonly tabs: Locator;

  constructor(private readonly page: Page) {
    this.tabs = page.getByRole("navigation", { name: "Settings" });
  }

  async open(tab: "Profile" | "API keys" | "Usage" | "Appearance") {
    const path = { Profile: "/settings", "API keys": "/settings/api-keys", Usage: "/settings/usage", Appearance: "/settings/appearance" }[tab];
    await this.page.goto(path);
    await expect(this.page.getByRole("heading", { name: tab, level: 1 })).toBeVisible();
    await expect(this.tabs.getByRole("link", { name: tab })).toHaveAttribute("aria-current", "page");
  }

  themeOption(name: "System" | "Light" | "Dark"): Locator {
    return this.page.getByRole("radiogroup", { name: "Theme" }).getByRole("radio", { name });
  }

  /** Clicks the option's visible label, as a person would (the radio itself is visually hidden). */
  async chooseTheme(name: "System" | "Light" | "Dark") {
    await this.page.getByRole("radiogroup", { name: "Theme" }).getByText(name, { exact: true }).click();
    await expect(this.themeOption(name)).toBeChecked();
  }

  shortcutsDialog(): Locator {
    return this.page.getByRole("dialog", { name: "Keyboard shortcuts" });
  }
}
