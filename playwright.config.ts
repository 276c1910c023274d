import { defineConfig } from "@playwright/test";

/**
 * Browser journeys against a production build, in Debian's Chromium (never a downloaded
 * browser). Two app servers: one on the zero-config defaults (offline model), one with the mock
 * LLM server configured as its OpenAI provider.
 */
// E2E_PORT_OFFSET lets a second checkout run its suite alongside (each port shifts by it).
const offset = Number(process.env.E2E_PORT_OFFSET ?? 0);
const MOCK_PORT = 4010 + offset;
const OFFLINE_PORT = 3210 + offset;
const OPENAI_PORT = 3211 + offset;
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// /api/metrics is closed without a token; the servers get this one and e2e/metrics.spec.ts scrapes
// with it (the runner's environment reaches its workers).
process.env.METRICS_TOKEN ||= "e2e-metrics-token-0123456789";

const appEnv = {
  NEXT_TELEMETRY_DISABLED: "1",
  NODE_ENV: "production",
  DATABASE_URL: "",
  OPENAI_API_KEY: "",
  GROQ_API_KEY: "",
  CHAT_MODEL: "",
  OFFLINE_TOKEN_DELAY_MS: "5",
  // Journeys seed dozens of conversations and turns through the API; the limit is tested elsewhere.
  RATE_LIMIT_CHAT_PER_MINUTE: "1000",
  // Every journey signs up from 127.0.0.1; the sign-in and sign-up throttles are tested elsewhere.
  RATE_LIMIT_SIGN_UP_PER_ADDRESS: "1000",
  RATE_LIMIT_SIGN_IN_PER_ADDRESS: "1000",
  // Nothing listens here: no local Ollama leaks into the model list.
  OLLAMA_BASE_URL: "http://127.0.0.1:9/v1",
  METRICS_TOKEN: process.env.METRICS_TOKEN,
};

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromium,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  projects: [
    { name: "offline-model", use: { baseURL: `http://127.0.0.1:${OFFLINE_PORT}` }, testIgnore: /(stop|xss)\.spec\.ts/ },
    { name: "mock-openai", use: { baseURL: `http://127.0.0.1:${OPENAI_PORT}` }, testIgnore: /sidebar\.spec\.ts/ },
  ],
  webServer: [
    {
      command: "npx tsx test/mock-llm/main.ts",
      url: `http://127.0.0.1:${MOCK_PORT}/v1/models`,
      ignoreHTTPSErrors: true,
      env: { MOCK_LLM_PORT: String(MOCK_PORT), MOCK_LLM_CHUNK_DELAY_MS: "40" },
      reuseExistingServer: false,
      // /v1/models answers 401 without a key: any answer means it is up.
      timeout: 30_000,
    },
    {
      command: `rm -rf .e2e/offline && npx next start -p ${OFFLINE_PORT} -H 127.0.0.1`,
      url: `http://127.0.0.1:${OFFLINE_PORT}/api/ready`,
      env: { ...appEnv, DATA_DIR: ".e2e/offline", PORT: String(OFFLINE_PORT) },
      reuseExistingServer: false,
      timeout: 120_000,
    },
    {
      command: `rm -rf .e2e/openai && npx next start -p ${OPENAI_PORT} -H 127.0.0.1`,
      url: `http://127.0.0.1:${OPENAI_PORT}/api/ready`,
      env: {
        ...appEnv,
        DATA_DIR: ".e2e/openai",
        PORT: String(OPENAI_PORT),
        OPENAI_API_KEY: "sk-e2e-mock",
        OPENAI_BASE_URL: `http://127.0.0.1:${MOCK_PORT}/v1`,
      },
      reuseExistingServer: false,
      timeout: 120_000,
    },
  ],
});
