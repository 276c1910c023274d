/**
 * Runs once when a server process starts: the request guard, the model settings (a model no one
 * could use stops the start), tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set), migrate, recover
 * replies a crash left streaming, and resume document ingestion that was pending or cut off.
 *
 * A server that cannot start (invalid configuration, the embedded database held by another
 * process, a migration failing) exits 1 with the reason on stderr. Next.js would otherwise keep
 * the process up and answer every request 500, so its supervisor would never restart it.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  try {
    await start();
  } catch (error) {
    await exitOnStartFailure(error);
  }
}

async function start() {
  // First: requests Next.js would answer 500 (TRACE, a malformed path) are refused from now on.
  const { installRequestGuard } = await import("./lib/api/request-guard");
  installRequestGuard();
  // Before the first request is served: the sign-in throttles key on the connection's address.
  const { recordPeerAddresses } = await import("./lib/auth/client-address");
  recordPeerAddresses();
  const { assertModelSettings } = await import("./lib/ai/catalog");
  assertModelSettings();
  // Then tracing, so everything after it is traced; without an endpoint the SDK is never loaded.
  const { startTracing } = await import("./lib/telemetry");
  await startTracing();
  const { getHandle } = await import("./lib/db/client");
  await getHandle();
  const { kickIngestion } = await import("./lib/retrieval/queue");
  void kickIngestion();
  // The tokenizer's tables take a few hundred milliseconds to build: now, not in a request.
  const { warmBpe } = await import("./lib/context/bpe-count.mjs");
  warmBpe();

  // Graceful shutdown (lib/shutdown.ts). Next.js handles SIGTERM/SIGINT itself — and exits once
  // its open requests end, with no deadline and no hand-off — unless NEXT_MANUAL_SIG_HANDLE is set
  // (the Dockerfile and `npm start` set it; `next dev` keeps Next's own handling).
  if (process.env.NEXT_MANUAL_SIG_HANDLE) {
    const { handleSignals, onShutdown } = await import("./lib/shutdown");
    const { shutdownTracing } = await import("./lib/telemetry");
    onShutdown("tracing", shutdownTracing);
    handleSignals();
  }
}

async function exitOnStartFailure(error: unknown): Promise<never> {
  const reason = error instanceof Error ? error.message : String(error);
  // Plain text first: the logger itself needs a valid configuration.
  process.stderr.write(`BOT GPT cannot start: ${reason}\n`);
  try {
    const { log } = await import("./lib/log");
    log.fatal({ event: "startup_failed", err: reason }, "server cannot start; exiting");
  } catch {
    // the configuration is what failed; stderr has the reason
  }
  process.exit(1);
}
