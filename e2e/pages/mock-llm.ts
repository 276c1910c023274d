import type { APIRequestContext } from "@playwright/test";

/** The mock LLM's control API, on the port playwright.config.ts gave it. */
const base = `http://127.0.0.1:${4010 + Number(process.env.E2E_PORT_OFFSET ?? 0)}`;

export class MockLlm {
  constructor(private readonly request: APIRequestContext) {}

  /** Fixed reply text and pacing for the following requests. */
  async set(settings: { reply?: string; chunkDelayMs?: number; ttftMs?: number }): Promise<void> {
    await this.request.post(`${base}/__mock/settings`, { data: settings });
  }

  async reset(): Promise<void> {
    await this.request.post(`${base}/__mock/reset`);
  }
}
