import { expect, test } from "@playwright/test";
import { makePdf } from "../test/support/make-pdf";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { DocumentsPanel } from "./pages/documents-panel";

const FACT = "The Zorblax reactor coolant temperature is 412 kelvin.";
const FILENAME = "zorblax-manual.pdf";

/** 100 pages of distinct filler; page 73 alone states the fact. */
function manual(): Buffer {
  return makePdf(
    Array.from({ length: 100 }, (_, i) =>
      i + 1 === 73
        ? `Chapter ${i + 1}. Cooling systems. ${FACT} Operators check it every shift.`
        : `Chapter ${i + 1}. Maintenance log for hangar section ${i + 1}: the lamps were replaced, floor tiles number ${(i + 1) * 7}, and inspection form ${i + 1000} was filed on schedule.`,
    ),
  );
}

test("upload a 100-page PDF, get an answer cited to page 73, and an honest 'not covered'", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const project = testInfo.project.name;
  await new AuthPage(page).signUp(`e2e-grounded-${project}-${Date.now()}@example.test`, "a long enough password");
  const chat = new ChatPage(page);
  const documents = new DocumentsPanel(page);

  // Uploading in a new chat creates a grounded conversation first.
  await documents.upload({ name: FILENAME, mimeType: "application/pdf", buffer: manual() });
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  await expect(documents.region).toBeVisible();
  await expect(documents.row(FILENAME)).toContainText("Ready — 100 pages", { timeout: 60_000 });
  await expect(documents.progress(FILENAME)).toHaveAttribute("aria-valuenow", "100");
  await expect(documents.region.getByRole("radio", { name: "Documents only" })).toBeChecked();
  await expect(documents.region.getByRole("link", { name: `Open ${FILENAME}` })).toHaveAttribute("href", /\/api\/v1\/documents\/[0-9a-f-]{36}\/content$/);

  await chat.send("What is the Zorblax reactor coolant temperature?");
  const answer = chat.assistantMessages().first();
  await chat.waitForReplyToFinish();
  await expect(answer).toContainText("412 kelvin");
  const marker = answer.getByRole("link", { name: new RegExp(`^Source \\d+: ${FILENAME.replace(".", "\\.")} page 73$`) }).first();
  await expect(marker).toHaveAttribute("href", /\/api\/v1\/documents\/[0-9a-f-]{36}\/content#page=73$/);
  await expect(marker).toHaveAttribute("target", "_blank");

  // The marker's card shows the passage on focus; Escape closes it.
  await marker.focus();
  const card = page.getByRole("tooltip");
  await expect(card).toBeVisible();
  await expect(card).toContainText(FILENAME);
  await expect(card).toContainText("page 73");
  await expect(card).toContainText("412 kelvin");
  await page.keyboard.press("Escape");
  await expect(card).toBeHidden();

  const sourcesButton = answer.getByRole("button", { name: /^Sources \(\d+\)$/ });
  await expect(sourcesButton).toHaveAttribute("aria-expanded", "false");
  await sourcesButton.click();
  const sources = answer.getByRole("list", { name: "Sources" });
  await expect(sources).toBeVisible();
  const cited = sources.getByRole("listitem").filter({ hasText: "page 73" });
  await expect(cited).toContainText(FILENAME);
  await expect(cited).toContainText(/score \d+\.\d{2}/);
  await expect(cited.getByRole("link", { name: `Open ${FILENAME} at page 73` })).toHaveAttribute("href", /#page=73$/);

  await chat.send("What is the capital of Peru?");
  await expect(chat.assistantMessages()).toHaveCount(2);
  await chat.waitForReplyToFinish();
  const absent = chat.assistantMessages().nth(1);
  await expect(absent).toContainText(/documents do not cover/i);
  await expect(absent.getByRole("link", { name: /^Source \d+/ })).toHaveCount(0);
  await expect(absent.getByRole("button", { name: /^Sources/ })).toHaveCount(0);

  // Stored replies keep their citations.
  await page.reload();
  const reloaded = chat.assistantMessages().first();
  await expect(reloaded.getByRole("link", { name: /^Source \d+: .* page 73$/ }).first()).toHaveAttribute("href", /#page=73$/);
  await expect(chat.assistantMessages().nth(1).getByRole("link", { name: /^Source \d+/ })).toHaveCount(0);
  await documents.open();
  await expect(documents.row(FILENAME)).toContainText("Ready — 100 pages");
});

test("a broken PDF shows a readable failure; detach and delete clean up", async ({ page }, testInfo) => {
  const project = testInfo.project.name;
  await new AuthPage(page).signUp(`e2e-broken-${project}-${Date.now()}@example.test`, "a long enough password");
  const documents = new DocumentsPanel(page);

  await documents.drop({ name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.7 garbage") });
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
  const row = documents.row("broken.pdf");
  await expect(row).toContainText(/Failed: \S.{8,}/, { timeout: 30_000 });
  await expect(row).not.toContainText(/stack|undefined|\[object/i);

  // A text file uploads too; detaching keeps it in the library, deleting removes it.
  await documents.upload({ name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from("# Notes\n\nThe quarterly badger census counted 31 badgers.\n") });
  await expect(documents.row("notes.md")).toContainText("Ready", { timeout: 30_000 });
  await documents.region.getByRole("button", { name: "Detach notes.md" }).click();
  await expect(documents.row("notes.md")).toHaveCount(0);
  await documents.region.getByRole("button", { name: "Add from library" }).click();
  await documents.region.getByRole("button", { name: "Attach notes.md" }).click();
  await expect(documents.row("notes.md")).toContainText("Ready");

  page.once("dialog", (dialog) => void dialog.accept());
  await documents.region.getByRole("button", { name: "Delete notes.md" }).click();
  await expect(documents.row("notes.md")).toHaveCount(0);
  await expect(documents.region.getByRole("list", { name: "Your library" })).not.toContainText("notes.md");

  // The answer mode is the conversation's, saved on the server.
  await documents.chooseMode("Open");
  await expect(documents.toggle).toContainText("open");
  await page.reload();
  await documents.open();
  await expect(documents.row("notes.md")).toHaveCount(0);
  await expect(documents.region.getByRole("radio", { name: "Open" })).toBeChecked();
});

test.describe("at phone width", () => {
  test.use({ viewport: { width: 390, height: 800 } });

  test("documents are reachable, fit the screen, and answers cite them", async ({ page }, testInfo) => {
    await new AuthPage(page).signUp(`e2e-grounded-phone-${testInfo.project.name}-${Date.now()}@example.test`, "a long enough password");
    const documents = new DocumentsPanel(page);
    const chat = new ChatPage(page);
    await expect(documents.region).toBeHidden();
    await documents.upload({ name: "field-guide-with-a-rather-long-file-name.txt", mimeType: "text/plain", buffer: Buffer.from(`The Zorblax reactor coolant temperature is 412 kelvin.\n`) });
    await expect(documents.row("field-guide-with-a-rather-long-file-name.txt")).toContainText("Ready", { timeout: 30_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await documents.toggle.click();
    await expect(documents.region).toBeHidden();
    await chat.send("What is the Zorblax reactor coolant temperature?");
    await chat.waitForReplyToFinish();
    await expect(chat.assistantMessages().first().getByRole("link", { name: /^Source 1: field-guide/ }).first()).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: testInfo.outputPath("grounded-phone.png") });
  });
});
