import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { SettingsPage } from "./pages/settings-page";

const password = "a long enough password";
// zinc-950 as Chromium reports it (lab() for Tailwind 4's oklch colours, rgb() in older builds).
const DARK_BACKGROUND = /^(lab\(2\.5|oklch\(0\.141|rgb\(9, 9, 11\))/;

test.beforeEach(async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-shortcuts-${testInfo.project.name}-${testInfo.title.length}-${Date.now()}@example.test`, password);
});

test("? opens the shortcuts dialog; Escape closes it and focus comes back", async ({ page }) => {
  const settings = new SettingsPage(page);
  await settings.open("Appearance");
  const opener = page.getByRole("button", { name: "Show shortcuts" });
  await opener.focus();
  await page.keyboard.press("?");
  const dialog = settings.shortcutsDialog();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("term").first()).toHaveText("New chat");
  await expect(dialog).toContainText(/(Ctrl|⌘)\s*Shift\s*O/);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  // The button opens it too, and Close closes it.
  await opener.click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  // A radio takes no text, so ? still means help there.
  await settings.themeOption("System").focus();
  await page.keyboard.press("?");
  await expect(dialog).toBeVisible();
});

test("? typed in the message box is just a character", async ({ page }) => {
  const chat = new ChatPage(page);
  await chat.input.click();
  await page.keyboard.type("why?");
  await expect(chat.input).toHaveValue("why?");
  await expect(new SettingsPage(page).shortcutsDialog()).toBeHidden();
});

test("Ctrl+Shift+O starts a new chat; Shift+Esc focuses the message box", async ({ page }) => {
  await new SettingsPage(page).open("Profile");
  await page.keyboard.press("Control+Shift+O");
  await expect(page).toHaveURL(/\/$/);
  const chat = new ChatPage(page);
  await expect(chat.input).toBeVisible();
  await page.getByRole("heading", { name: "New chat", level: 1 }).click();
  await expect(chat.input).not.toBeFocused();
  await page.keyboard.press("Shift+Escape");
  await expect(chat.input).toBeFocused();
});

test("choosing Dark sets html.dark, and the choice survives a reload", async ({ page }) => {
  const settings = new SettingsPage(page);
  await settings.open("Appearance");
  await expect(settings.themeOption("System")).toBeChecked();
  await settings.chooseTheme("Dark");
  await expect(page.locator("html")).toHaveClass("dark");
  await expect(page.locator("body")).toHaveCSS("background-color", DARK_BACKGROUND);
  await page.reload();
  await expect(page.locator("html")).toHaveClass("dark");
  await expect(settings.themeOption("Dark")).toBeChecked();
  expect((await page.context().cookies()).find((c) => c.name === "theme")?.value).toBe("dark");
});

test("System follows the device; Light overrides a dark device", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "dark" });
  const settings = new SettingsPage(page);
  await settings.open("Appearance");
  const body = page.locator("body");
  await expect(body).toHaveCSS("background-color", DARK_BACKGROUND);
  await settings.chooseTheme("Light");
  await expect(page.locator("html")).toHaveClass("light");
  await expect(body).toHaveCSS("background-color", "rgb(255, 255, 255)");
  await page.reload();
  await expect(body).toHaveCSS("background-color", "rgb(255, 255, 255)");
  await settings.chooseTheme("System");
  await expect(page.locator("html")).not.toHaveClass(/light|dark/);
  await expect(body).toHaveCSS("background-color", DARK_BACKGROUND);
});
