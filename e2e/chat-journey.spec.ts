import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

const password = "a long enough password";

test("sign up, chat with a streamed reply, reload and find the conversation", async ({ page }, testInfo) => {
  const email = `e2e-${testInfo.project.name}-${Date.now()}@example.test`;
  await new AuthPage(page).signUp(email, password);

  const chat = new ChatPage(page);
  await expect(chat.sidebar.getByText("No conversations yet.")).toBeVisible();
  await chat.send("What is the tallest mountain?");

  await expect(chat.userMessages().first()).toContainText("What is the tallest mountain?");
  const reply = chat.assistantMessages().first();
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  const offline = testInfo.project.name === "offline-model";
  // Streaming: the reply appears before it is complete, then grows to the full text.
  await expect(reply).not.toBeEmpty();
  if (offline) {
    await expect(reply).toContainText("not an AI");
    // The offline reply is Markdown: the question comes back as a quote.
    await expect(reply.locator("blockquote")).toContainText("What is the tallest mountain?");
    await expect(chat.modelPicker.locator("option:checked")).toContainText("Offline model (not an AI)");
  } else {
    await expect(reply).toContainText('Mock reply: you said "What is the tallest mountain?"');
    await expect(reply).toContainText("several chunks.");
    await expect(chat.modelPicker).toHaveValue("openai:gpt-4o-mini");
  }
  await chat.waitForReplyToFinish();
  await expect(chat.conversationLink("What is the tallest mountain?")).toBeVisible();

  const url = page.url();
  await page.reload();
  await expect(page).toHaveURL(url);
  await expect(chat.userMessages()).toHaveCount(1);
  await expect(chat.assistantMessages()).toHaveCount(1);
  await expect(chat.assistantMessages().first()).toContainText(offline ? "not an AI" : "several chunks.");
  await expect(chat.conversationLink("What is the tallest mountain?")).toHaveAttribute("aria-current", "page");

  // A second turn continues the same conversation.
  await chat.send("And the deepest ocean?");
  await expect(chat.assistantMessages()).toHaveCount(2);
  await chat.waitForReplyToFinish();
  await page.reload();
  await expect(chat.userMessages()).toHaveCount(2);

  // New chat starts empty; the old one is still in the sidebar and opens.
  await page.getByRole("link", { name: "New chat" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(chat.userMessages()).toHaveCount(0);
  await chat.conversationLink("What is the tallest mountain?").click();
  await expect(chat.userMessages()).toHaveCount(2);
});

test("signed-out visitors are sent to sign in; wrong passwords are refused", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  const email = `e2e-auth-${testInfo.project.name}-${Date.now()}@example.test`;
  const auth = new AuthPage(page);
  await auth.signUp(email, password);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await auth.signIn(email, "not the password");
  await expect(page.locator("form").getByRole("alert")).toHaveText("Wrong email or password.");
  await auth.signIn(email, password);
  await expect(page).toHaveURL(/\/$/);
});
