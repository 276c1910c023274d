import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

test("the composer: Enter sends, Shift+Enter adds a line, long pastes are kept and counted against the limit", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "offline-model", "composer behaviour does not depend on the model");
  await new AuthPage(page).signUp(`e2e-composer-${Date.now()}@example.test`, "a long enough password");
  const chat = new ChatPage(page);
  const send = page.getByRole("button", { name: "Send" });
  await expect(send).toBeDisabled();

  await chat.input.click();
  await page.keyboard.type("first line");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("second line");
  await expect(chat.input).toHaveValue("first line\nsecond line");
  await page.keyboard.press("Enter");
  await expect(chat.userMessages().first()).toContainText("second line");
  await expect(chat.input).toHaveValue("");
  await chat.waitForReplyToFinish();

  // A paste past the limit (32,000 by default) is kept whole; sending waits until it fits.
  await chat.input.fill("x".repeat(32_010));
  await expect(chat.input).toHaveValue("x".repeat(32_010));
  await expect(page.getByText("32,010 / 32,000 characters")).toBeVisible();
  await expect(page.getByText(/10 over the limit/)).toBeVisible();
  await expect(chat.input).toHaveAttribute("aria-invalid", "true");
  await expect(send).toBeDisabled();
  await chat.input.press("Enter");
  await expect(chat.userMessages()).toHaveCount(1);

  await chat.input.fill("y".repeat(30_000));
  await expect(page.getByText("30,000 / 32,000 characters")).toBeVisible();
  await expect(send).toBeEnabled();
});

test("the model picker lists the server's models, labels the offline one and switches the conversation", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "mock-openai", "needs a configured provider besides the offline model");
  await new AuthPage(page).signUp(`e2e-models-${Date.now()}@example.test`, "a long enough password");
  const chat = new ChatPage(page);
  await chat.send("Hello there");
  await chat.waitForReplyToFinish();
  await expect(chat.assistantMessages().first()).toContainText("Mock reply");

  const offline = chat.modelPicker.locator("option", { hasText: "Offline model (not an AI)" });
  await expect(offline).toHaveCount(1);
  const offlineId = await offline.getAttribute("value");
  await chat.modelPicker.selectOption(offlineId ?? "");
  const id = /\/c\/([0-9a-f-]{36})/.exec(page.url())?.[1];
  await expect.poll(async () => ((await (await page.request.get(`/api/v1/conversations/${id}`)).json()) as { conversation: { model: string } }).conversation.model).toBe(offlineId);

  await chat.send("And now?");
  await chat.waitForReplyToFinish();
  await expect(chat.assistantMessages().nth(1)).toContainText("not an AI");
  await page.reload();
  await expect(chat.modelPicker).toHaveValue(offlineId ?? "");
});
