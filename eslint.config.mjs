import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([".next/**", "node_modules/**", "data/**", "test-results/**", "playwright-report/**", "next-env.d.ts", "drizzle/meta/**"]),
  {
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through lib/env.ts." },
      ],
    },
  },
  {
    // lib/env.ts is the single reader of process.env; build/test/bench tooling configures itself.
    files: ["lib/env.ts", "next.config.ts", "instrumentation.ts", "*.config.*", "test/**", "e2e/**", "scripts/**", "bench/**"],
    rules: { "no-restricted-properties": "off" },
  },
]);
