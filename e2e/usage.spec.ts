import { expect, test, type APIRequestContext, type Locator } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

const password = "a long enough password";

/** "12.4k tokens · $0.0031" → 12400 */
async function totalTokens(totals: Locator): Promise<number> {
  const match = /^([\d.]+)(k|M)?/.exec((await totals.textContent()) ?? "");
  if (!match) return NaN;
  return Number(match[1]) * (match[2] === "k" ? 1_000 : match[2] === "M" ? 1_000_000 : 1);
}

async function gaugeTokens(gauge: Locator): Promise<number> {
  return Number(await gauge.getAttribute("aria-valuenow"));
}

/** A conversation made through the public API, the way a script would (session cookie). */
async function createConversation(request: APIRequestContext, body: Record<string, unknown>): Promise<string> {
  const response = await request.post("/api/v1/conversations", { data: body });
  expect(response.status()).toBe(201);
  return ((await response.json()) as { conversation: { id: string } }).conversation.id;
}

test("a reply's tokens and cost on hover, the conversation's totals and the context gauge", async ({ page }, testInfo) => {
  const offline = testInfo.project.name === "offline-model";
  // The offline model is free; the mock stands in for gpt-4o-mini and is priced like it.
  const cost = offline ? "\\$0" : "\\$0\\.0*[1-9]\\d*";
  await new AuthPage(page).signUp(`e2e-usage-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  await expect(chat.contextGauge()).toHaveCount(0);

  await chat.send("How far away is the Moon?");
  await chat.waitForReplyToFinish();
  const reply = chat.assistantMessages().first();

  const card = await chat.openUsage(reply);
  await expect(card).toContainText(/Prompt\s*[1-9][\d,]* tokens/);
  await expect(card).toContainText(/Completion\s*[1-9][\d,]* tokens/);
  await expect(card).toContainText(new RegExp(`Cost\\s*${cost}(?![.\\d])`));
  await expect(card).toContainText(offline ? "offline:bot-gpt-offline" : "openai:gpt-4o-mini");
  await expect(card).toContainText(/first token \d/);
  await page.keyboard.press("Escape");
  await expect(card).toBeHidden();
  // Keyboard users reach the same card.
  await page.mouse.move(0, 0);
  await reply.getByRole("button", { name: "Usage details" }).focus();
  await expect(page.getByRole("tooltip")).toContainText("Usage of this reply");
  await page.keyboard.press("Escape");

  await expect(chat.totals()).toHaveText(new RegExp(`^[\\d.]+k? tokens · ${cost}$`));
  const gauge = chat.contextGauge();
  await expect(gauge).toHaveAttribute("aria-valuemax", offline ? "32768" : "128000");
  await expect(page.getByTestId("context-gauge")).toContainText(offline ? /\b\d[\d.]*k? \/ 32\.8k tokens/ : /\b\d[\d.]*k? \/ 128k tokens/);
  const firstRequest = await gaugeTokens(gauge);
  expect(firstRequest).toBeGreaterThan(0);
  const firstTotal = await totalTokens(chat.totals());

  // The next request carries the first turn too: the gauge and the totals grow without a reload.
  await chat.send("And how far away is the Sun?");
  await chat.waitForReplyToFinish();
  await expect.poll(() => gaugeTokens(gauge)).toBeGreaterThan(firstRequest);
  await expect.poll(() => totalTokens(chat.totals())).toBeGreaterThan(firstTotal);
  const totalsText = await chat.totals().textContent();
  const requestTokens = await gaugeTokens(gauge);

  // Stored figures, after a reload, are the ones shown live.
  await page.reload();
  await expect(chat.totals()).toHaveText(totalsText ?? "");
  await expect(gauge).toHaveAttribute("aria-valuenow", String(requestTokens));
  await expect(await chat.openUsage(chat.assistantMessages().nth(1))).toContainText(/Time\s*\d/);

  // Settings › Usage adds it up by day and by model, with the budget (no limit by default).
  await page.getByRole("link", { name: "Usage", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Usage", level: 1 })).toBeVisible();
  const byModel = page.getByRole("table", { name: "By model" });
  const modelRow = byModel.getByRole("row", { name: offline ? /offline:bot-gpt-offline/ : /openai:gpt-4o-mini/ });
  await expect(modelRow.getByRole("cell").first(), "requests").toHaveText("2");
  await expect(page.getByRole("table", { name: "By day" }).getByRole("row", { name: new Date().toISOString().slice(0, 10) })).toBeVisible();
  await expect(page.getByTestId("budget-status")).toContainText("no limit");
  // Document storage against the default quotas (1 GiB, 1,000 documents); this user uploaded nothing.
  await expect(page.getByTestId("storage-status")).toContainText("0 B of 1.0 GB");
  await expect(page.getByTestId("storage-status")).toContainText("0 of 1,000");
});

test("a repeated question at temperature 0 is answered from the cache, at no cost", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-cache-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  const question = `What is the boiling point of water? (${Date.now()})`;

  for (const [turn, expectCached] of [
    [1, false],
    [2, true],
  ] as const) {
    await page.goto(`/c/${await createConversation(page.request, { temperature: 0 })}`);
    await chat.send(question);
    await chat.waitForReplyToFinish();
    const reply = chat.assistantMessages().first();
    await expect(reply.getByRole("button", { name: "Usage details" }), `turn ${turn}`).toBeVisible();
    const card = await chat.openUsage(reply);
    if (expectCached) {
      await expect(card).toContainText("From cache · no cost");
      await expect(card).toContainText(/Cost\s*\$0(?![.\d])/);
      await expect(reply.getByText("cached", { exact: true })).toBeVisible();
      await expect(chat.totals()).toHaveText("0 tokens · $0");
    } else {
      await expect(card).toContainText("Usage of this reply");
      await expect(card).not.toContainText("From cache");
      await expect(reply.getByText("cached", { exact: true })).toHaveCount(0);
    }
    await page.keyboard.press("Escape");
  }
});

test("a message refused for the budget shows when it resets and stays in the composer", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-budget-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  // The refusal itself is the server's (its integration tests cover it); limits are configured per
  // deployment, so this journey answers the send with the server's 429 body to check what a person sees.
  const resetsAt = new Date(Date.UTC(2030, 0, 2)).toISOString();
  await page.route("**/api/v1/conversations/*/messages", (route) =>
    route.fulfill({
      status: 429,
      contentType: "application/problem+json",
      headers: { "retry-after": "3600" },
      body: JSON.stringify({
        type: "https://bot-gpt.dev/errors/budget_exceeded",
        title: "Budget exceeded",
        status: 429,
        code: "budget_exceeded",
        detail: `Your account has used 10,000 of its 10,000 tokens for today (UTC). It resets at ${resetsAt}.`,
        budget: "user",
        limit_type: "tokens_per_day",
        limit: 10_000,
        used: 10_000,
        resets_at: resetsAt,
      }),
    }),
  );

  const draft = "Please summarize the history of the printing press in detail.";
  await chat.send(draft);
  // Scoped by text: Next.js keeps its own (empty) route announcer alert on the page.
  const alert = page.getByRole("alert").filter({ hasText: "Your message was not sent" });
  await expect(alert).toContainText("Budget exceeded");
  await expect(alert).toContainText(`It resets at ${resetsAt}.`);
  await expect(chat.input).toHaveValue(draft);
  await expect(chat.userMessages()).toHaveCount(0);

  // Once the limit resets, the same draft goes through.
  await page.unroute("**/api/v1/conversations/*/messages");
  await page.getByRole("button", { name: "Send" }).click();
  await chat.waitForReplyToFinish();
  await expect(chat.userMessages()).toHaveCount(1);
  await expect(chat.userMessages().first()).toContainText(draft);
  await expect(alert).toHaveCount(0);
});

/** About 8.5k tokens of distinct sentences: two such turns fit the offline model's 32k window, three leave no room for a fourth. */
function longMessage(turn: number): string {
  const animals = ["fox", "heron", "badger", "otter", "lynx", "crane", "marten", "ibex"];
  const cities = ["Lima", "Oslo", "Accra", "Hanoi", "Quito", "Perth", "Tunis", "Riga"];
  const lines: string[] = [];
  for (let i = 0; lines.join("\n").length < 24_000; i++) {
    lines.push(`Turn ${turn} note ${i}: the ${animals[i % 8]} tagged ${turn * 1000 + i} was seen near ${cities[(i * 3) % 8]} at ${i % 24}:00.`);
  }
  return lines.join("\n");
}

test("when the window fills, earlier messages are summarized and the thread says so", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await new AuthPage(page).signUp(`e2e-summary-${testInfo.project.name}-${Date.now()}@example.test`, password);
  const chat = new ChatPage(page);
  const models = (await (await page.request.get("/api/v1/models")).json()) as { data: Array<{ id: string; offline: boolean }> };
  const offlineModel = models.data.find((m) => m.offline)?.id;
  expect(offlineModel).toBeTruthy();

  // Two long turns through the API, as a script would send them: they still fit the window.
  const id = await createConversation(page.request, { model: offlineModel });
  for (const turn of [1, 2]) {
    const response = await page.request.post(`/api/v1/conversations/${id}/messages`, { data: { content: longMessage(turn) } });
    expect(response.status()).toBe(201);
  }
  await page.goto(`/c/${id}`);
  await expect(chat.assistantMessages()).toHaveCount(2);
  await expect(chat.summaryMarker()).toHaveCount(0);
  const before = await gaugeTokens(chat.contextGauge());
  expect(before).toBeGreaterThan(12_000);

  // The third does not leave room for a fourth: the server folds the oldest turns into a summary
  // after the reply, and the thread marks where it stands in for them without a reload.
  await chat.input.fill(longMessage(3));
  await page.getByRole("button", { name: "Send" }).click();
  await chat.waitForReplyToFinish();
  await expect.poll(() => gaugeTokens(chat.contextGauge())).toBeGreaterThan(before);
  const marker = chat.summaryMarker();
  await expect(marker).toHaveText(/^\d+ earlier messages summarized/);
  const covered = Number(/^(\d+)/.exec((await marker.textContent()) ?? "")?.[1]);
  const stored = (await (await page.request.get(`/api/v1/conversations/${id}`)).json()) as { conversation: { summary: string; summary_through_seq: number } };
  expect(covered).toBe(stored.conversation.summary_through_seq);
  // The marker sits right after the last message it covers (in that message's row of the thread).
  await expect(chat.log.locator(`li[data-index="${covered - 1}"]`).getByTestId("summary-marker")).toBeVisible();

  const summaryText = marker.getByText(stored.conversation.summary.slice(0, 40));
  await expect(summaryText).toBeHidden();
  await marker.getByText(/earlier messages summarized/).click();
  await expect(summaryText).toBeVisible();

  // The next request carries the summary instead of the messages it covers.
  await chat.send("What was tagged near Lima?");
  await chat.waitForReplyToFinish();
  await expect.poll(() => gaugeTokens(chat.contextGauge())).toBeLessThan(before);
  await expect(chat.contextGauge()).toHaveAttribute("aria-describedby", /.+/);
  await expect(page.getByTestId("context-gauge")).toHaveAttribute("title", new RegExp(`summary of messages 1–${covered}`));
});
