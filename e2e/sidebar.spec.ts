import { expect, test, type APIRequestContext, type TestInfo } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { SidebarPage } from "./pages/sidebar-page";

const password = "a long enough password";

async function signUp(page: import("@playwright/test").Page, testInfo: TestInfo, tag: string) {
  await new AuthPage(page).signUp(`e2e-sidebar-${tag}-${testInfo.project.name}-${Date.now()}@example.test`, password);
}

/** Creates a conversation through the public API with the signed-in session, waiting out a 429. */
async function createConversation(request: APIRequestContext, data: { title: string; first_message?: string }): Promise<string> {
  for (;;) {
    const response = await request.post("/api/v1/conversations", { data });
    if (response.status() === 429) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(response.headers()["retry-after"] ?? 1)));
      continue;
    }
    expect(response.status()).toBe(201);
    return ((await response.json()) as { conversation: { id: string } }).conversation.id;
  }
}

test("search finds a conversation by what was said in it; an unknown term shows the empty state", async ({ page }, testInfo) => {
  await signUp(page, testInfo, "search");
  await createConversation(page.request, { title: "Weekend plans", first_message: "Pack the crampons for the zanzibarite glacier hike" });
  await createConversation(page.request, { title: "Other chat" });
  await page.goto("/");
  const sidebar = new SidebarPage(page);
  await expect(sidebar.link("Weekend plans")).toBeVisible();
  await expect(sidebar.link("Other chat")).toBeVisible();

  await sidebar.search.fill("zanzibarite");
  await expect(sidebar.link("Other chat")).toBeHidden();
  await expect(sidebar.link("Weekend plans")).toBeVisible();

  await sidebar.search.fill("quetzalcoatlus");
  await expect(sidebar.nav.getByText("No conversations match “quetzalcoatlus”.")).toBeVisible();
  await sidebar.nav.getByRole("button", { name: "Clear search" }).click();
  await expect(sidebar.search).toHaveValue("");
  await expect(sidebar.search).toBeFocused();
  await expect(sidebar.link("Other chat")).toBeVisible();

  // Keyboard only: type, then Escape clears the search.
  await sidebar.search.pressSequentially("weekend");
  await expect(sidebar.link("Other chat")).toBeHidden();
  await sidebar.search.press("Escape");
  await expect(sidebar.search).toHaveValue("");
  await expect(sidebar.link("Other chat")).toBeVisible();
});

test("rename inline, pin to the top, archive and bring back from the archive", async ({ page }, testInfo) => {
  await signUp(page, testInfo, "organize");
  for (const title of ["Alpha", "Bravo", "Charlie"]) await createConversation(page.request, { title });
  await page.goto("/");
  const sidebar = new SidebarPage(page);
  await expect(sidebar.heading("Today")).toBeVisible();
  expect(await sidebar.titlesUnder("Today")).toEqual(["Charlie", "Bravo", "Alpha"]);

  await sidebar.link("Bravo").click();
  await expect(sidebar.link("Bravo")).toHaveAttribute("aria-current", "page");
  await sidebar.rename("Bravo", "Bravo, renamed");
  await expect(sidebar.link("Bravo, renamed")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Bravo, renamed");
  // Escape cancels; a blank title is refused and the box stays open.
  await sidebar.act("Charlie", "Rename");
  const input = sidebar.nav.getByRole("textbox", { name: "Rename “Charlie”" });
  await input.fill("Never saved");
  await input.press("Escape");
  await expect(sidebar.link("Charlie")).toBeVisible();
  await sidebar.act("Charlie", "Rename");
  await input.fill("   ");
  await input.press("Enter");
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await input.press("Escape");
  await page.reload();
  await expect(sidebar.link("Bravo, renamed")).toBeVisible();
  await expect(sidebar.link("Charlie")).toBeVisible();

  // Pin: the oldest moves to the Pinned group on top; unpin puts it back.
  await sidebar.act("Alpha", "Pin");
  await expect(sidebar.heading("Pinned")).toBeVisible();
  await expect.poll(() => sidebar.titlesUnder("Pinned")).toEqual(["Alpha"]);
  await expect.poll(() => sidebar.titlesUnder("Today")).toEqual(["Charlie", "Bravo, renamed"]);
  await page.reload();
  await expect.poll(() => sidebar.titlesUnder("Pinned")).toEqual(["Alpha"]);
  await sidebar.act("Alpha", "Unpin");
  await expect(sidebar.heading("Pinned")).toBeHidden();

  // Archive: gone from the list, listed under Archived, and back after Unarchive.
  await sidebar.act("Charlie", "Archive");
  await expect(sidebar.link("Charlie")).toBeHidden();
  await sidebar.showArchived();
  await expect(sidebar.link("Charlie")).toBeVisible();
  await expect(sidebar.link("Alpha")).toBeHidden();
  await sidebar.act("Charlie", "Unarchive");
  await expect(sidebar.link("Charlie")).toBeHidden();
  await expect(sidebar.nav.getByText("No archived conversations.")).toBeVisible();
  await sidebar.backToConversations();
  await expect(sidebar.link("Charlie")).toBeVisible();

  // A failed change puts the row back and says so.
  await page.route("**/api/v1/conversations/*", (route) => (route.request().method() === "PATCH" ? route.fulfill({ status: 500 }) : route.fallback()));
  await sidebar.act("Charlie", "Archive");
  await expect(sidebar.nav.getByRole("alert")).toContainText("Could not archive “Charlie”.");
  await expect(sidebar.link("Charlie")).toBeVisible();
});

test("delete asks first, can be undone, and otherwise deletes when the undo window ends", async ({ page }, testInfo) => {
  await signUp(page, testInfo, "delete");
  const doomed = await createConversation(page.request, { title: "Doomed" });
  const open = await createConversation(page.request, { title: "Open one" });
  await page.goto("/");
  const sidebar = new SidebarPage(page);

  // Cancelling the confirmation keeps it.
  await sidebar.act("Doomed", "Delete");
  await expect(sidebar.confirmDialog()).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(sidebar.confirmDialog()).toBeHidden();
  await expect(sidebar.link("Doomed")).toBeVisible();

  await sidebar.delete("Doomed");
  await expect(sidebar.link("Doomed")).toBeHidden();
  await expect(sidebar.undoToast).toBeVisible();
  await sidebar.undoToast.getByRole("button", { name: "Undo" }).click();
  await expect(sidebar.link("Doomed")).toBeVisible();
  await expect(sidebar.undoToast).toBeHidden();
  await page.waitForTimeout(6_000); // past the undo window: nothing was sent
  expect((await page.request.get(`/api/v1/conversations/${doomed}`)).status()).toBe(200);

  await sidebar.delete("Doomed");
  await expect(sidebar.link("Doomed")).toBeHidden();
  await expect(sidebar.undoToast).toBeHidden({ timeout: 10_000 });
  await expect.poll(async () => (await page.request.get(`/api/v1/conversations/${doomed}`)).status()).toBe(404);
  await page.reload();
  await expect(sidebar.link("Open one")).toBeVisible();
  await expect(sidebar.link("Doomed")).toBeHidden();

  // Deleting the conversation on screen leaves it for a new chat.
  await sidebar.link("Open one").click();
  await expect(page).toHaveURL(new RegExp(`/c/${open}$`));
  await expect(sidebar.link("Open one")).toHaveAttribute("aria-current", "page");
  await sidebar.delete("Open one");
  await expect(page).toHaveURL(/\/$/);
  await expect(sidebar.nav.getByText("No conversations yet.")).toBeVisible();
});

test("a failed load shows an error with Retry", async ({ page }, testInfo) => {
  await signUp(page, testInfo, "retry");
  await createConversation(page.request, { title: "Still here" });
  const listRequests = (url: URL) => url.pathname === "/api/v1/conversations";
  await page.route(listRequests, (route) => route.fulfill({ status: 503 }));
  await page.goto("/");
  const sidebar = new SidebarPage(page);
  await expect(sidebar.nav.getByRole("alert")).toContainText("Could not load conversations.");
  await page.unroute(listRequests);
  await sidebar.nav.getByRole("button", { name: "Retry" }).click();
  await expect(sidebar.link("Still here")).toBeVisible();
});

test("infinite scroll over 120 conversations keeps only the visible rows in the page", async ({ page }, testInfo) => {
  test.setTimeout(180_000); // creating 120 goes through the chat rate limit (60 a minute)
  await signUp(page, testInfo, "scroll");
  const title = (i: number) => `Bulk ${String(i).padStart(3, "0")}`;
  for (let i = 0; i < 120; i++) await createConversation(page.request, { title: title(i) });
  await page.goto("/");
  const sidebar = new SidebarPage(page);
  await expect(sidebar.link(title(119))).toBeVisible();
  expect(await sidebar.rows().count()).toBeLessThan(60);

  for (let i = 0; i < 30 && !(await sidebar.link(title(0)).isVisible()); i++) {
    await sidebar.list.hover();
    await page.mouse.wheel(0, 2_000);
    await page.waitForTimeout(150);
  }
  await expect(sidebar.link(title(0))).toBeVisible();
  await expect(sidebar.link(title(119))).toHaveCount(0);
  expect(await sidebar.rows().count()).toBeLessThan(60);
  await page.screenshot({ path: testInfo.outputPath("sidebar-scrolled.png") });
});

test.describe("at phone width", () => {
  test.use({ viewport: { width: 375, height: 720 } });

  test("the sidebar is a drawer: opens with focus inside, closes with Escape, the backdrop or navigating", async ({ page }, testInfo) => {
    await signUp(page, testInfo, "drawer");
    await createConversation(page.request, { title: "Phone chat" });
    await page.goto("/");
    const sidebar = new SidebarPage(page);
    await expect(sidebar.nav).toBeHidden();

    await sidebar.menuButton.click();
    await expect(sidebar.nav).toBeVisible();
    await expect(sidebar.menuButton).toHaveAttribute("aria-expanded", "true");
    await expect(sidebar.nav.getByRole("button", { name: "Close sidebar" })).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(sidebar.nav).toBeHidden();
    await expect(sidebar.menuButton).toBeFocused();
    await expect(sidebar.menuButton).toHaveAttribute("aria-expanded", "false");

    await sidebar.menuButton.click();
    await expect(sidebar.nav).toBeVisible();
    await page.getByTestId("sidebar-backdrop").click({ position: { x: 360, y: 400 } });
    await expect(sidebar.nav).toBeHidden();

    await sidebar.menuButton.click();
    await sidebar.link("Phone chat").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]{36}$/);
    await expect(sidebar.nav).toBeHidden();
  });
});
