import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { MockLlm } from "./pages/mock-llm";

// Runs in the mock-openai project only (see playwright.config.ts): the mock streams slowly
// enough to stop mid-reply.
test("the stop button ends a reply and the partial text is kept", async ({ page }) => {
  const longReply = Array.from({ length: 120 }, (_, i) => `word${i}`).join(" ");
  await new MockLlm(page.request).set({ reply: longReply, chunkDelayMs: 60 });
  try {
    await new AuthPage(page).signUp(`e2e-stop-${Date.now()}@example.test`, "a long enough password");
    const chat = new ChatPage(page);
    await chat.send("Tell me a long story");
    const reply = chat.assistantMessages().first();
    await expect(reply).toContainText("word5");
    await page.getByRole("button", { name: "Stop" }).click();
    await chat.waitForReplyToFinish();

    await page.reload();
    const saved = chat.assistantMessages().first();
    await expect(saved).toContainText("word5");
    await expect(saved).not.toContainText("word119");
    await expect(saved).toContainText("Stopped before the reply finished.");

    // Retry asks the same question again as a new turn, and the conversation goes on.
    await new MockLlm(page.request).reset();
    await saved.getByRole("button", { name: "Retry" }).click();
    await expect(chat.assistantMessages()).toHaveCount(2);
    await expect(chat.assistantMessages().nth(1)).toContainText('Mock reply: you said "Tell me a long story"');
    await expect(chat.userMessages()).toHaveCount(2);
  } finally {
    await new MockLlm(page.request).reset();
  }
});

test("a reply survives a reload mid-stream and finishes in place, once", async ({ page }) => {
  const words = Array.from({ length: 80 }, (_, i) => `word${i}`);
  await new MockLlm(page.request).set({ reply: words.join(" "), chunkDelayMs: 60 });
  try {
    await new AuthPage(page).signUp(`e2e-reload-${Date.now()}@example.test`, "a long enough password");
    const chat = new ChatPage(page);
    await chat.send("Tell me a long story");
    await expect(chat.assistantMessages().first()).toContainText("word5");
    await page.waitForURL(/\/c\//);
    await page.reload();

    // The server kept writing; the page picks the same reply up and follows it to the end.
    const reply = chat.assistantMessages();
    await expect(reply.first()).toContainText("word79", { timeout: 30_000 });
    await chat.waitForReplyToFinish();
    await expect(reply).toHaveCount(1);
    await expect(reply.first()).toContainText(words.join(" "));
    // Exactly once: no word repeated by the replay.
    expect(((await reply.first().innerText()).match(/\bword5\b/g) ?? []).length).toBe(1);
    await expect(reply.first()).not.toContainText("Stopped before the reply finished.");
    await expect(reply.first()).not.toContainText("The server restarted");
  } finally {
    await new MockLlm(page.request).reset();
  }
});

test("a reply whose connection drops mid-stream is picked up again and shown once", async ({ page, context }) => {
  const words = Array.from({ length: 80 }, (_, i) => `word${i}`);
  await new MockLlm(page.request).set({ reply: words.join(" "), chunkDelayMs: 60 });
  try {
    await new AuthPage(page).signUp(`e2e-blip-${Date.now()}@example.test`, "a long enough password");
    const chat = new ChatPage(page);
    await chat.send("Tell me a long story");
    const reply = chat.assistantMessages();
    await expect(reply.first()).toContainText("word5");
    // A network blip: the open stream breaks; the server keeps writing the reply.
    await context.setOffline(true);
    await page.waitForTimeout(400);
    await context.setOffline(false);

    await expect(reply.first()).toContainText("word79", { timeout: 30_000 });
    await chat.waitForReplyToFinish();
    await expect(reply).toHaveCount(1);
    expect(((await reply.first().innerText()).match(/\bword5\b/g) ?? []).length).toBe(1);
    // No error left on screen (the route announcer is also an alert, hence the paragraph).
    await expect(page.locator("p[role=alert]")).toHaveCount(0);
  } finally {
    await new MockLlm(page.request).reset();
  }
});
