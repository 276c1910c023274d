import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { SettingsPage } from "./pages/settings-page";

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const password = "a long enough password";

/** Serious and critical axe violations on the page as it is now, one line per node. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}) ${node.target.join(" ")}: ${node.failureSummary?.replace(/\s+/g, " ") ?? v.help}`));
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`${colorScheme} theme`, () => {
    test.use({ colorScheme });

    test("sign-in and sign-up pages", async ({ page }) => {
      await page.goto("/sign-in");
      await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
      expect.soft(await seriousViolations(page), "sign-in").toEqual([]);
      await page.goto("/sign-up");
      await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
      expect.soft(await seriousViolations(page), "sign-up").toEqual([]);
    });

    test("chat, a conversation with a reply, settings and the shortcuts dialog", async ({ page }, testInfo) => {
      test.setTimeout(120_000);
      await new AuthPage(page).signUp(`e2e-a11y-${colorScheme}-${testInfo.project.name}-${Date.now()}@example.test`, password);
      const chat = new ChatPage(page);
      await expect(chat.input).toBeVisible();
      expect.soft(await seriousViolations(page), "new chat").toEqual([]);

      await chat.send("What is the capital of France?");
      await chat.waitForReplyToFinish();
      await expect(page).toHaveURL(/\/c\//);
      await expect(chat.assistantMessages()).toHaveCount(1);
      expect.soft(await seriousViolations(page), "conversation with a reply").toEqual([]);

      const settings = new SettingsPage(page);
      await settings.open("Profile");
      expect.soft(await seriousViolations(page), "settings: profile").toEqual([]);
      await settings.open("API keys");
      await expect(page.getByText("No API keys yet")).toBeVisible();
      expect.soft(await seriousViolations(page), "settings: API keys").toEqual([]);
      await settings.open("Usage");
      await expect(page.getByRole("table", { name: "By model" })).toBeVisible();
      expect.soft(await seriousViolations(page), "settings: usage").toEqual([]);
      await settings.open("Appearance");
      expect.soft(await seriousViolations(page), "settings: appearance").toEqual([]);

      await page.getByRole("heading", { name: "Appearance", level: 1 }).click();
      await page.keyboard.press("?");
      await expect(settings.shortcutsDialog()).toBeVisible();
      expect.soft(await seriousViolations(page), "shortcuts dialog").toEqual([]);
    });
  });
}
