import { expect, type Locator, type Page } from "@playwright/test";

/** The conversation sidebar as a person uses it: search, the row menus, the archive, the phone drawer. */
export class SidebarPage {
  readonly nav: Locator;
  readonly search: Locator;
  readonly list: Locator;
  readonly menuButton: Locator;
  readonly undoToast: Locator;

  constructor(private readonly page: Page) {
    this.nav = page.getByRole("navigation", { name: "Conversations" });
    this.search = this.nav.getByRole("searchbox", { name: "Search conversations" });
    this.list = this.nav.getByTestId("conversation-list");
    this.menuButton = page.getByRole("button", { name: "Menu" });
    this.undoToast = page.getByRole("status").filter({ hasText: "Conversation deleted" });
  }

  link(title: string | RegExp): Locator {
    return this.nav.getByRole("link", { name: title, exact: typeof title === "string" ? true : undefined });
  }

  heading(label: string): Locator {
    return this.nav.getByRole("heading", { name: label, exact: true });
  }

  /** The conversation titles under a group heading, in order (only rows in the DOM). */
  async titlesUnder(label: string): Promise<string[]> {
    return this.nav.evaluate((nav, wanted) => {
      const items = [...nav.querySelectorAll('[role="listitem"]')].sort(
        (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top,
      );
      const titles: string[] = [];
      let inside = false;
      for (const item of items) {
        const heading = item.querySelector("h3");
        if (heading) inside = heading.textContent === wanted;
        else if (inside) titles.push(item.querySelector("a")?.textContent ?? "");
      }
      return titles;
    }, label);
  }

  rows(): Locator {
    return this.nav.getByTestId("conversation-row");
  }

  async openActions(title: string): Promise<Locator> {
    await this.link(title).hover();
    await this.nav.getByRole("button", { name: `More actions for ${title}`, exact: true }).click();
    const menu = this.page.getByRole("menu", { name: `Actions for ${title}` });
    await expect(menu).toBeVisible();
    return menu;
  }

  async act(title: string, action: "Rename" | "Pin" | "Unpin" | "Archive" | "Unarchive" | "Delete") {
    const menu = await this.openActions(title);
    await menu.getByRole("menuitem", { name: action, exact: true }).click();
  }

  async rename(title: string, next: string) {
    await this.act(title, "Rename");
    const input = this.nav.getByRole("textbox", { name: `Rename “${title}”` });
    await expect(input).toBeFocused();
    await input.fill(next);
    await input.press("Enter");
  }

  confirmDialog(): Locator {
    return this.page.getByRole("alertdialog", { name: "Delete conversation?" });
  }

  async delete(title: string) {
    await this.act(title, "Delete");
    const dialog = this.confirmDialog();
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(dialog).toBeHidden();
  }

  async showArchived() {
    await this.nav.getByRole("button", { name: "Archived", exact: true }).click();
    await expect(this.nav.getByRole("heading", { name: "Archived", exact: true })).toBeVisible();
  }

  async backToConversations() {
    await this.nav.getByRole("button", { name: "Back to conversations" }).click();
  }
}
