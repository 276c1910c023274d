import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // `npm run build` and the Docker image set BUILD_STANDALONE=1: .next/standalone (what the image
  // runs) is built next to the regular output, so `next start` keeps working on the same build.
  output: process.env.BUILD_STANDALONE === "1" ? "standalone" : undefined,
  // Native/wasm packages that must be loaded by Node at run time, not bundled.
  serverExternalPackages: ["pdf-parse", "@electric-sql/pglite", "@electric-sql/pglite-pgvector", "pg", "fs-native-extensions"],
  // Files loaded at run time that the standalone tracer cannot see: PGlite's wasm/data bundle,
  // the SQL migrations applied at start-up, and the extraction child (lib/retrieval/*.mjs) with what it imports.
  outputFileTracingIncludes: {
    "/**": [
      "./node_modules/@electric-sql/pglite/dist/**/*",
      "./node_modules/@electric-sql/pglite-pgvector/dist/**/*",
      "./drizzle/**/*",
      "./lib/retrieval/*.mjs",
      "./lib/context/bpe-count.mjs",
      "./node_modules/pdf-parse/**/*",
      "./node_modules/pdfjs-dist/legacy/build/**/*",
      // pdf.js's legacy build polyfills DOMMatrix from @napi-rs/canvas (a require the tracer misses);
      // without it every PDF fails with "DOMMatrix is not defined". The platform package comes along.
      "./node_modules/@napi-rs/**/*",
      "./node_modules/gpt-tokenizer/**/*",
      // The data directory's OS lock (lib/db/data-dir.ts): require-addon picks the prebuilt binary
      // for the platform at run time, which the tracer cannot follow.
      "./node_modules/fs-native-extensions/**/*",
      "./node_modules/require-addon/**/*",
      "./node_modules/bare-addon-resolve/**/*",
      "./node_modules/bare-module-resolve/**/*",
      "./node_modules/bare-semver/**/*",
      "./node_modules/which-runtime/**/*",
    ],
  },
  // `next dev` serves its scripts to localhost only; 127.0.0.1 is the same machine.
  allowedDevOrigins: ["127.0.0.1"],
  poweredByHeader: false,
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
  typedRoutes: false,
};

export default nextConfig;
