import { expect, type Locator, type Page } from "@playwright/test";

export type UploadFile = { name: string; mimeType: string; buffer: Buffer };

/** The chat's documents: the Attach input in the composer and the panel listing them. */
export class DocumentsPanel {
  readonly toggle: Locator;
  readonly region: Locator;
  readonly attachInput: Locator;

  constructor(private readonly page: Page) {
    this.toggle = page.getByRole("button", { name: /^Documents/ });
    this.region = page.getByRole("region", { name: "Documents" });
    this.attachInput = page.getByLabel("Attach files", { exact: true });
  }

  async upload(...files: UploadFile[]) {
    await this.attachInput.setInputFiles(files);
  }

  /** Drops files on the chat pane the way a browser does (dragenter, dragover, drop). */
  async drop(file: UploadFile) {
    const transfer = await this.page.evaluateHandle(
      ({ name, mimeType, bytes }) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], name, { type: mimeType }));
        return data;
      },
      { name: file.name, mimeType: file.mimeType, bytes: [...file.buffer] },
    );
    const target = this.page.getByRole("log", { name: "Messages" });
    await target.dispatchEvent("dragenter", { dataTransfer: transfer });
    await target.dispatchEvent("dragover", { dataTransfer: transfer });
    const overlay = this.page.getByTestId("drop-overlay");
    await expect(overlay).toBeVisible();
    await target.dispatchEvent("drop", { dataTransfer: transfer });
    await expect(overlay).toBeHidden();
  }

  /** A document (or upload) attached to this conversation, not one offered from the library. */
  row(filename: string): Locator {
    return this.region.getByRole("list", { name: "Attached documents" }).getByRole("listitem").filter({ hasText: filename });
  }

  progress(filename: string): Locator {
    return this.region.getByRole("progressbar", { name: filename, exact: true });
  }

  /** Picks the answer mode the way a keyboard user does (the radios sit under styled labels). */
  async chooseMode(name: "Open" | "Documents only") {
    await this.region.getByRole("radio", { name }).focus();
    await this.page.keyboard.press("Space");
    await expect(this.region.getByRole("radio", { name })).toBeChecked();
  }

  async open() {
    if ((await this.toggle.getAttribute("aria-expanded")) !== "true") await this.toggle.click();
    await expect(this.region).toBeVisible();
  }
}
