import { expect, test } from "@playwright/test";
import { AuthPage } from "./pages/auth-page";

test("create an API key in settings, use it, revoke it", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-keys-${testInfo.project.name}-${Date.now()}@example.test`, "a long enough password");
  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();

  await page.getByLabel("Name").fill("E2E script");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent()) ?? "";
  expect(key).toMatch(/^bgpt_/);
  await expect(page.getByTestId("api-key-list")).toContainText("E2E script");

  // The key works from outside the browser session.
  const api = await page.context().browser()!.newContext({ baseURL: testInfo.project.use.baseURL });
  const authorized = { headers: { authorization: `Bearer ${key}` } };
  expect((await api.request.get("/api/v1/conversations", authorized)).status()).toBe(200);

  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Revoke E2E script" }).click();
  await expect(page.getByTestId("api-key-list")).not.toContainText("E2E script");
  expect((await api.request.get("/api/v1/conversations", authorized)).status()).toBe(401);
  await api.close();
});

test("the API reference is public and generated from the OpenAPI document", async ({ page, request }) => {
  await page.goto("/docs/api");
  await expect(page.getByRole("heading", { name: "BOT GPT API reference" })).toBeVisible();
  await expect(page.locator("#createConversation")).toContainText("/api/v1/conversations");
  await expect(page.locator("#errors")).toContainText("insufficient_scope");
  const spec = await request.get("/api/v1/openapi.json");
  expect(spec.status()).toBe(200);
  expect(((await spec.json()) as { openapi: string }).openapi).toBe("3.1.0");
});

test("the reference's Try it sends real requests with the browser session", async ({ page }, testInfo) => {
  await new AuthPage(page).signUp(`e2e-tryit-${testInfo.project.name}-${Date.now()}@example.test`, "a long enough password");
  await page.goto("/docs/api");
  const create = page.locator("#createConversation");
  await create.getByRole("button", { name: "Try it" }).click();
  await create.getByRole("button", { name: "Send POST" }).click();
  await expect(create.getByTestId("try-it-response")).toContainText('"conversation"');
  await expect(create.getByText("201 Created")).toBeVisible();

  const list = page.locator("#listConversations");
  await list.getByRole("button", { name: "Try it" }).click();
  await list.getByLabel("Query string").fill("limit=0");
  await list.getByRole("button", { name: "Send GET" }).click();
  await expect(list.getByTestId("try-it-response")).toContainText("validation_failed");
});
