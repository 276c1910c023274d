import { expect, type Locator, type Page } from "@playwright/test";

export class ChatPage {
  readonly input: Locator;
  readonly sidebar: Locator;
  readonly log: Locator;
  /** The scrolling box around the (virtualized) thread. */
  readonly scroller: Locator;
  readonly modelPicker: Locator;

  constructor(private readonly page: Page) {
    this.input = page.getByRole("textbox", { name: "Message" });
    this.sidebar = page.getByRole("navigation", { name: "Conversations" });
    this.log = page.getByRole("log", { name: "Messages" });
    this.scroller = page.getByTestId("message-scroller");
    this.modelPicker = page.getByRole("combobox", { name: "Model" });
  }

  async send(text: string) {
    await this.input.fill(text);
    await this.page.getByRole("button", { name: "Send" }).click();
  }

  assistantMessages(): Locator {
    return this.log.locator('[data-role="assistant"]');
  }

  userMessages(): Locator {
    return this.log.locator('[data-role="user"]');
  }

  async waitForReplyToFinish() {
    await expect(this.page.getByRole("button", { name: "Send" })).toBeVisible({ timeout: 30_000 });
  }

  conversationLink(title: string | RegExp): Locator {
    return this.sidebar.getByRole("link", { name: title });
  }

  /** The tokens and cost of every model call in the conversation, in the header. */
  totals(): Locator {
    return this.page.getByTestId("conversation-usage");
  }

  /** How much of the context window the newest reply's request used. */
  contextGauge(): Locator {
    return this.page.getByRole("meter", { name: "Context window" });
  }

  summaryMarker(): Locator {
    return this.log.getByTestId("summary-marker");
  }

  /** Hovers a reply's usage button and returns the card it shows. */
  async openUsage(reply: Locator): Promise<Locator> {
    await reply.getByRole("button", { name: "Usage details" }).hover();
    const card = this.page.getByRole("tooltip");
    await expect(card).toBeVisible();
    return card;
  }

  /** Sends and waits until the reply has arrived and finished (Send replaces Stop only then). */
  async sendAndWait(text: string) {
    const replies = await this.assistantMessages().count();
    await this.send(text);
    await expect(this.assistantMessages()).toHaveCount(replies + 1);
    await this.waitForReplyToFinish();
  }

  /** A message's action row (copy, rate, regenerate, edit); it carries the message's id. */
  actions(message: Locator): Locator {
    return message.getByTestId("message-actions");
  }

  async copy(message: Locator) {
    await message.hover();
    await this.actions(message).getByRole("button", { name: "Copy" }).click();
    await expect(this.actions(message).getByRole("button", { name: "Copied" })).toBeVisible();
  }

  rating(reply: Locator, name: "Good response" | "Bad response"): Locator {
    return this.actions(reply).getByRole("button", { name });
  }

  async regenerate(reply: Locator) {
    await reply.hover();
    await this.actions(reply).getByRole("button", { name: "Regenerate" }).click();
  }

  /** Opens the inline editor of a user message and types the new text; returns the editor's form. */
  async startEditing(message: Locator, text: string): Promise<Locator> {
    await message.hover();
    await this.actions(message).getByRole("button", { name: "Edit" }).click();
    const editor = message.getByRole("textbox", { name: "Edit message" });
    await editor.fill(text);
    return message;
  }

  async saveEdit(message: Locator) {
    await message.getByRole("button", { name: "Save & regenerate" }).click();
  }
}
