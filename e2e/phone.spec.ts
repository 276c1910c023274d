import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

test.use({ viewport: { width: 390, height: 800 } });

test("at phone width the sidebar is a drawer and chatting works", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-phone-${testInfo.project.name}-${Date.now()}@example.test`, "a long enough password");
  const chat = new ChatPage(page);
  await expect(chat.sidebar).toBeHidden();
  await chat.send("Hello from a phone");
  await expect(chat.assistantMessages().first()).not.toBeEmpty();
  await chat.waitForReplyToFinish();

  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await menu.click();
  await expect(chat.sidebar).toBeVisible();
  await expect(chat.conversationLink("Hello from a phone")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("phone.png") });
  await page.getByRole("link", { name: "New chat" }).click();
  await expect(chat.sidebar).toBeHidden();
});
