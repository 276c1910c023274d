import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

const password = "a long enough password";

test("copy a reply, rate it, and the rating is still there after a reload", async ({ page, context }, testInfo) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await new AuthPage(page).signUp(`e2e-actions-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  await chat.sendAndWait("Name a blue fruit");
  const reply = chat.assistantMessages().first();
  await expect(reply).toContainText("Name a blue fruit");

  await chat.copy(reply);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain("Name a blue fruit");

  const up = chat.rating(reply, "Good response");
  await expect(up).toHaveAttribute("aria-pressed", "false");
  await up.click();
  await expect(up).toHaveAttribute("aria-pressed", "true");
  // The rating is stored: wait for the request to land before reloading.
  await expect
    .poll(async () => {
      const id = page.url().split("/c/")[1];
      const response = await page.request.get(`/api/v1/conversations/${id}`);
      const body = (await response.json()) as { messages: Array<{ feedback: { rating: string } | null }> };
      return body.messages[1]?.feedback?.rating ?? null;
    })
    .toBe("up");
  await page.reload();
  await expect(chat.rating(chat.assistantMessages().first(), "Good response")).toHaveAttribute("aria-pressed", "true");
  await expect(chat.rating(chat.assistantMessages().first(), "Bad response")).toHaveAttribute("aria-pressed", "false");

  // Switching to thumbs down replaces it.
  await chat.rating(chat.assistantMessages().first(), "Bad response").click();
  await expect(chat.rating(chat.assistantMessages().first(), "Bad response")).toHaveAttribute("aria-pressed", "true");
  await expect(chat.rating(chat.assistantMessages().first(), "Good response")).toHaveAttribute("aria-pressed", "false");
});

test("regenerate replaces the last reply with a new one in its place", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-regen-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  await chat.sendAndWait("First question");
  await chat.sendAndWait("Second question");

  const last = chat.assistantMessages().nth(1);
  // Only the last reply offers regenerate.
  await expect(chat.actions(chat.assistantMessages().first()).getByRole("button", { name: "Regenerate" })).toHaveCount(0);
  const oldId = await chat.actions(last).getAttribute("data-message-id");
  expect(oldId).toMatch(/^[0-9a-f-]{36}$/);
  await chat.regenerate(last);
  await chat.waitForReplyToFinish();
  await expect(chat.actions(chat.assistantMessages().nth(1))).not.toHaveAttribute("data-message-id", oldId!);
  await expect(chat.assistantMessages()).toHaveCount(2);
  await expect(chat.userMessages()).toHaveCount(2);
  await expect(chat.assistantMessages().nth(1)).toContainText("Second question");
  const newId = await chat.actions(chat.assistantMessages().nth(1)).getAttribute("data-message-id");

  await page.reload();
  await expect(chat.assistantMessages()).toHaveCount(2);
  await expect(chat.actions(chat.assistantMessages().nth(1))).toHaveAttribute("data-message-id", newId!);
});

test("editing the first message warns, then replaces everything after it with a new reply", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-edit-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  await chat.sendAndWait("What is the capital of France?");
  await chat.sendAndWait("And of Spain?");

  const first = chat.userMessages().first();
  // Escape cancels without changing anything.
  await chat.startEditing(first, "never mind");
  await page.keyboard.press("Escape");
  await expect(first.getByRole("textbox", { name: "Edit message" })).toHaveCount(0);
  await expect(first).toContainText("What is the capital of France?");

  await chat.startEditing(first, "What is the capital of Italy?");
  await expect(first.getByText("Saving replaces the 3 later messages in this conversation.")).toBeVisible();
  await chat.saveEdit(first);
  await expect(chat.userMessages()).toHaveCount(1);
  await expect(chat.userMessages().first()).toContainText("What is the capital of Italy?");
  await expect(chat.assistantMessages()).toHaveCount(1);
  await expect(chat.assistantMessages().first()).toContainText("What is the capital of Italy?");
  await chat.waitForReplyToFinish();

  await page.reload();
  await expect(chat.userMessages()).toHaveCount(1);
  await expect(chat.assistantMessages()).toHaveCount(1);
  await expect(chat.userMessages().first()).toContainText("What is the capital of Italy?");
  await expect(chat.assistantMessages().first()).toContainText("What is the capital of Italy?");
  await expect(page.getByText("And of Spain?")).toHaveCount(0);
});
