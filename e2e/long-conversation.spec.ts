import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

// 35 turns = 70 messages: more than the first page (50), so the rest loads on scroll.
const TURNS = 35;

test("a long conversation opens on its newest messages, loads older ones on scroll and stays virtualized", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "offline-model", "one model is enough for the scrolling journey");
  test.setTimeout(120_000);
  await new AuthPage(page).signUp(`e2e-long-${Date.now()}@example.test`, "a long enough password");
  const created = await page.request.post("/api/v1/conversations", { data: { title: "Long thread", first_message: "turn 1" } });
  expect(created.status()).toBe(201);
  const { conversation } = (await created.json()) as { conversation: { id: string } };
  for (let turn = 2; turn <= TURNS; turn++) {
    const res = await page.request.post(`/api/v1/conversations/${conversation.id}/messages`, { data: { content: `turn ${turn}` } });
    expect(res.status()).toBe(201);
  }

  const chat = new ChatPage(page);
  const question = (text: string) => chat.userMessages().filter({ has: page.getByText(text, { exact: true }) });
  const firstQuestion = () => question("turn 1");
  const lastQuestion = () => question(`turn ${TURNS}`);
  await page.goto(`/c/${conversation.id}`);
  // Opens at the end: the newest question is on screen, the first is not loaded yet.
  await expect(lastQuestion()).toBeInViewport();
  await expect(firstQuestion()).toHaveCount(0);
  // Virtualized: far fewer message elements than messages.
  expect(await chat.log.locator('[data-testid="message"]').count()).toBeLessThan(40);

  // Scrolling up shows "Jump to latest" and, near the top, loads the earlier page.
  const jump = page.getByRole("button", { name: "Jump to latest" });
  for (let i = 0; i < 40 && (await firstQuestion().count()) === 0; i++) {
    await chat.scroller.evaluate((el) => el.scrollBy(0, -2_000));
    await page.waitForTimeout(100);
  }
  await chat.scroller.evaluate((el) => (el.scrollTop = 0));
  await expect(firstQuestion()).toBeVisible();
  await expect(jump).toBeVisible();
  expect(await chat.log.locator('[data-testid="message"]').count()).toBeLessThan(40);

  await jump.click();
  await expect(lastQuestion()).toBeInViewport();
  await expect(jump).toBeHidden();

  // A new turn scrolls to the reply as it streams.
  await chat.scroller.evaluate((el) => el.scrollBy(0, -1_500));
  await chat.send("the newest question");
  await chat.waitForReplyToFinish();
  await expect(chat.assistantMessages().last()).toBeInViewport();
});
