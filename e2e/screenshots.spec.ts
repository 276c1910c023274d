import { expect, test, type Page } from "@playwright/test";
import { makePdf } from "../test/support/make-pdf";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { DocumentsPanel } from "./pages/documents-panel";
import { MockLlm } from "./pages/mock-llm";

/**
 * The README's screenshots (docs/screenshots/): `npm run screenshots`. Skipped in the normal run,
 * which must not rewrite files in the repository.
 */
test.skip(!process.env.SCREENSHOTS, "set SCREENSHOTS=1 (npm run screenshots) to refresh docs/screenshots");

const REPLY = [
  "Here is a small **retry helper** with exponential backoff:",
  "",
  "```ts",
  "export async function retry<T>(call: () => Promise<T>, attempts = 3): Promise<T> {",
  "  for (let i = 0; ; i++) {",
  "    try {",
  "      return await call();",
  "    } catch (error) {",
  "      if (i + 1 >= attempts) throw error;",
  "      await new Promise((r) => setTimeout(r, 2 ** i * 250));",
  "    }",
  "  }",
  "}",
  "```",
  "",
  "| attempt | wait |",
  "|---|---|",
  "| 1 | 250 ms |",
  "| 2 | 500 ms |",
  "",
  "- Retries only what can succeed later (timeouts, 429, 5xx).",
  "- Gives up after the last attempt and rethrows.",
].join("\n");

const TITLES = ["Trip plan for Lisbon", "Postgres index advice", "Quarterly report summary", "Birthday gift ideas", "Rust borrow checker question"];

async function seedSidebar(page: Page) {
  for (const title of TITLES) {
    await page.request.post("/api/v1/conversations", { data: { title } });
  }
}

test("README screenshots", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "mock-openai", "taken once, with the mock model answering");
  test.setTimeout(180_000);
  const mock = new MockLlm(page.request);
  await page.setViewportSize({ width: 1280, height: 800 });
  // No transitions: a drawer or card is captured where it ends up, not halfway there.
  await page.emulateMedia({ reducedMotion: "reduce" });
  await new AuthPage(page).signUp(`screens-${Date.now()}@example.test`, "a long enough password");
  await seedSidebar(page);
  const chat = new ChatPage(page);
  try {
    await mock.set({ reply: REPLY, chunkDelayMs: 5 });
    await page.goto("/");
    await chat.send("Write a TypeScript retry helper with backoff");
    await chat.waitForReplyToFinish();
    await expect(chat.assistantMessages().first().locator("table")).toBeVisible();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: "docs/screenshots/chat-light.png" });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: "docs/screenshots/chat-dark.png" });
    await mock.reset();

    // Grounded: a short manual, a cited answer with its card open.
    await page.goto("/");
    const documents = new DocumentsPanel(page);
    const pages = [
      "Chapter 1. Safety. Wear gloves when handling the coolant pump.",
      "Chapter 2. Cooling. The reactor coolant temperature must stay at 412 kelvin during operation.",
      "Chapter 3. Shutdown. Close valve B before valve C.",
    ];
    await documents.upload({ name: "reactor-manual.pdf", mimeType: "application/pdf", buffer: makePdf(pages) });
    await expect(documents.row("reactor-manual.pdf")).toContainText("Ready", { timeout: 60_000 });
    await chat.send("What temperature must the reactor coolant stay at?");
    await chat.waitForReplyToFinish();
    const marker = chat.assistantMessages().first().getByRole("link", { name: /^Source \d+:/ }).first();
    await marker.hover();
    await expect(page.getByRole("tooltip")).toBeVisible();
    await page.screenshot({ path: "docs/screenshots/grounded-dark.png" });

    await page.goto("/settings/usage");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await page.screenshot({ path: "docs/screenshots/settings-dark.png" });

    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/");
    await page.getByRole("button", { name: "Menu" }).click();
    await expect(chat.sidebar).toBeVisible();
    await page.screenshot({ path: "docs/screenshots/phone-drawer.png" });
  } finally {
    await mock.reset();
  }
});
