import { expect, test, type APIRequestContext } from "@playwright/test";
import { makePdf } from "../test/support/make-pdf";
import { ISSUE_SERIES } from "../test/support/metric-series";
import { AuthPage } from "./pages/auth-page";
import { ChatPage } from "./pages/chat-page";

/**
 * Issue 8's "done means": during a real journey against the production build — sign up, a chat turn
 * in the browser, a deterministic turn asked twice (cache), a retried and a fallen-back turn, a
 * grounded question on an uploaded PDF, a burst past the rate limit — /api/metrics serves every
 * series, and the ones the journey exercised have samples with the expected labels.
 */

const mockBase = `http://127.0.0.1:${4010 + Number(process.env.E2E_PORT_OFFSET ?? 0)}`;

/** A created conversation with its first turn: the question, then the reply. */
type TurnBody = { messages: Array<{ model: string | null; retrieval: { candidates: unknown[] } | null }> };

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  return text.split("\n").flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}

/** Sum of the samples named `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(request: APIRequestContext): Promise<{ text: string; samples: Sample[] }> {
  // playwright.config.ts gives the servers this token: the endpoint is closed without one.
  const res = await request.get("/api/metrics", { headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` } });
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("text/plain");
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

test("the metrics endpoint serves every series while a journey exercises them", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== "mock-openai", "the journey needs a real provider call (the mock LLM)");
  test.setTimeout(180_000);
  const api = page.request;
  await api.post(`${mockBase}/__mock/reset`);
  const before = await scrape(api);
  // Present from process start: every name has its HELP and TYPE lines before any of it happens.
  for (const [name, type] of ISSUE_SERIES) expect(before.text, name).toContain(`# TYPE ${name} ${type}\n`);

  await new AuthPage(page).signUp(`e2e-metrics-${Date.now()}@example.test`, "a long enough password");

  // A streamed turn in the browser.
  const chat = new ChatPage(page);
  await chat.send("Hello from the metrics journey");
  await chat.waitForReplyToFinish();
  await expect(chat.assistantMessages().first()).toContainText("metrics journey");

  // The same deterministic request twice: a miss, then a hit.
  const deterministic = { model: "openai:gpt-4o-mini", temperature: 0, first_message: `Cache this ${Date.now()}` };
  for (let i = 0; i < 2; i++) expect((await api.post("/api/v1/conversations", { data: deterministic })).status()).toBe(201);

  // One 503 (retried, then answered) and one refused request (handed to the next model).
  await api.post(`${mockBase}/__mock/faults`, { data: { faults: [{ type: "status", status: 503 }] } });
  expect((await api.post("/api/v1/conversations", { data: { model: "openai:gpt-4o-mini", first_message: "Retry me" } })).status()).toBe(201);
  await api.post(`${mockBase}/__mock/faults`, { data: { faults: [{ type: "status", status: 400, message: "refused" }] } });
  const fellBack = await api.post("/api/v1/conversations", { data: { model: "openai:gpt-4o-mini", first_message: "Fall back" } });
  expect(fellBack.status()).toBe(201);
  expect(((await fellBack.json()) as TurnBody).messages[1]?.model).toMatch(/^offline:/);

  // A grounded question on an uploaded PDF.
  const pdf = makePdf(["Chapter 1. The Zorblax reactor coolant temperature is 412 kelvin.", "Chapter 2. Lamps were replaced in hangar 7."]);
  const uploaded = await api.post("/api/v1/documents", { multipart: { file: { name: "zorblax.pdf", mimeType: "application/pdf", buffer: pdf } } });
  expect(uploaded.status()).toBe(202);
  const { id: documentId } = (await uploaded.json()) as { id: string };
  await expect
    .poll(async () => ((await (await api.get(`/api/v1/documents/${documentId}`)).json()) as { status: string }).status, { timeout: 60_000 })
    .toBe("ready");
  const grounded = await api.post("/api/v1/conversations", { data: { document_ids: [documentId], first_message: "What is the Zorblax coolant temperature?" } });
  expect(grounded.status()).toBe(201);
  expect(((await grounded.json()) as TurnBody).messages[1]?.retrieval?.candidates.length).toBeGreaterThan(0);

  // Past this user's default bucket: 429s.
  let refused = 0;
  for (let sent = 0; refused === 0 && sent < 3_000; sent += 50) {
    const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await api.get("/api/v1/conversations?limit=1")).status()));
    refused += statuses.filter((s) => s === 429).length;
  }
  expect(refused).toBeGreaterThan(0);

  const after = await scrape(api);
  const delta = (name: string, labels: Record<string, string> = {}) => total(after.samples, name, labels) - total(before.samples, name, labels);
  for (const [name, type] of ISSUE_SERIES) expect(after.text, name).toContain(`# TYPE ${name} ${type}\n`);

  // Soft: one run lists every series that is missing or did not move.
  // Requests, by route template and status.
  expect.soft(delta("botgpt_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/conversations", status: "201" })).toBeGreaterThanOrEqual(5);
  expect.soft(delta("botgpt_http_request_duration_seconds_count", { route: "/api/v1/documents/{id}", status: "200" })).toBeGreaterThan(0);
  expect.soft(delta("botgpt_http_request_duration_seconds_count", { route: "/api/v1/conversations", status: "429" })).toBe(refused);
  // Model calls to the mock, by provider and model.
  const openai = { provider: "openai", model: "openai:gpt-4o-mini" };
  expect.soft(delta("botgpt_model_ttft_seconds_count", openai)).toBeGreaterThan(0);
  expect.soft(delta("botgpt_model_call_duration_seconds_count", { ...openai, outcome: "ok" })).toBeGreaterThan(0);
  expect.soft(delta("botgpt_model_tokens_total", { ...openai, kind: "input" })).toBeGreaterThan(0);
  expect.soft(delta("botgpt_model_tokens_total", { ...openai, kind: "output" })).toBeGreaterThan(0);
  expect.soft(delta("botgpt_model_cost_usd_total", openai)).toBeGreaterThan(0);
  // Resilience.
  expect.soft(delta("botgpt_model_retries_total", { ...openai, code: "upstream_unavailable" })).toBe(1);
  expect.soft(delta("botgpt_model_fallbacks_total", { provider: "offline" })).toBe(1);
  expect.soft(after.samples.find((s) => s.name === "botgpt_circuit_breaker_state" && s.labels.provider === "openai")?.value).toBe(0);
  // Cache, retrieval, ingestion, streams, rate limits.
  expect.soft(delta("botgpt_response_cache_misses_total")).toBeGreaterThanOrEqual(1);
  expect.soft(delta("botgpt_response_cache_hits_total")).toBeGreaterThanOrEqual(1);
  expect.soft(delta("botgpt_retrieval_duration_seconds_count", { mode: "lexical" })).toBeGreaterThanOrEqual(1);
  expect.soft(delta("botgpt_ingestion_duration_seconds_count", { outcome: "ready" })).toBeGreaterThanOrEqual(1);
  expect.soft(after.samples.find((s) => s.name === "botgpt_ingestion_queue_depth")?.value).toBeGreaterThanOrEqual(0);
  expect.soft(after.samples.find((s) => s.name === "botgpt_active_streams")?.value).toBe(0);
  expect.soft(delta("botgpt_rate_limit_rejections_total", { kind: "default" })).toBe(refused);
});
