import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };

// Integration tests run against PGlite (in memory) and, when TEST_DATABASE_URL is set, against
// that Postgres server too: the same files, once per database.
const databases = [
  { name: "pglite", env: { DATA_DIR: "memory://", DATABASE_URL: "" } },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: "postgres", env: { DATABASE_URL: process.env.TEST_DATABASE_URL } }]
    : []),
];

const common = {
  NODE_ENV: "test" as const,
  OFFLINE_TOKEN_DELAY_MS: "0",
  AUTH_SECRET: "test-secret-test-secret-test-secret",
  OPENAI_API_KEY: "",
  GROQ_API_KEY: "",
  CHAT_MODEL: "",
  INSTANCE_ID: "",
  // Quiet test output; the tests that read log lines turn them back on for their file.
  LOG_LEVEL: "silent",
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "test/unit/**/*.test.ts"],
          env: { ...common, DATA_DIR: "memory://", DATABASE_URL: "", OLLAMA_BASE_URL: "http://127.0.0.1:9/v1" },
        },
      },
      ...databases.map((db) => ({
        resolve: { alias },
        test: {
          name: `integration-${db.name}`,
          include: ["test/integration/**/*.test.ts"],
          env: { ...common, ...db.env },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      })),
    ],
  },
});
