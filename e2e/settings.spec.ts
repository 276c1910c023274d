import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { SettingsPage } from "./pages/settings-page";

test.beforeEach(async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-settings-${testInfo.project.name}-${Date.now()}@example.test`, "a long enough password", "Ada Lovelace");
});

test("the profile shows the account; tabs mark the current section", async ({ page }) => {
  const settings = new SettingsPage(page);
  await settings.open("Profile");
  const main = page.getByRole("main");
  await expect(main.getByRole("definition").filter({ hasText: "Ada Lovelace" })).toBeVisible();
  await expect(main.getByRole("definition").filter({ hasText: /^e2e-settings-.*@example\.test$/ })).toBeVisible();
  await settings.tabs.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
  await expect(settings.tabs.getByRole("link", { name: "API keys" })).toHaveAttribute("aria-current", "page");
  await expect(settings.tabs.getByRole("link", { name: "Profile" })).not.toHaveAttribute("aria-current");
  await expect(page.getByText("No API keys yet")).toBeVisible();

  await settings.open("Profile");
  await main.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("a usage report that fails to load says so in a toast, and Retry loads it", async ({ page }) => {
  await page.route("**/api/v1/usage*", (route) => route.fulfill({ status: 503, contentType: "application/problem+json", body: "{}" }));
  await new SettingsPage(page).open("Usage");
  const toast = page.getByRole("alert").filter({ hasText: "Could not load your usage." });
  await expect(toast).toBeVisible();
  await expect(page.getByText("No usage yet")).toHaveCount(0);

  await page.unroute("**/api/v1/usage*");
  await toast.getByRole("button", { name: "Retry" }).click();
  await expect(toast).toHaveCount(0);
  await expect(page.getByText("No usage yet")).toBeVisible();
  await expect(page.getByTestId("budget-status")).toContainText("no limit");
});

test("a toast can be dismissed, and one that is hovered stays", async ({ page }) => {
  await page.route("**/api/v1/api-keys", (route) => (route.request().method() === "GET" ? route.fulfill({ status: 500, body: "{}" }) : route.continue()));
  await new SettingsPage(page).open("API keys");
  const toast = page.getByRole("alert").filter({ hasText: "Could not load your API keys." });
  await toast.hover();
  // Errors leave by themselves after 8 s, unless the pointer rests on them.
  await page.waitForTimeout(9_000);
  await expect(toast).toBeVisible();
  await toast.getByRole("button", { name: "Dismiss" }).click();
  await expect(toast).toHaveCount(0);
});
