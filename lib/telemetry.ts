import type { AttributeValue } from "@opentelemetry/api";
import { env } from "@/lib/env";
import { errorMessage, log } from "@/lib/log";

/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: a tracer provider registered
 * globally (Next.js's own request spans and the AI SDK's model-call spans go through it), batching
 * spans to the collector over OTLP/HTTP (JSON). The SDK is imported only when tracing starts, so a
 * process without an endpoint loads none of it.
 */

type Tracing = { forceFlush(): Promise<void>; shutdown(): Promise<void> };

// On globalThis: instrumentation.ts and the route bundles each get their own copy of this module.
const holder = globalThis as typeof globalThis & { __botGptTracing?: Tracing | null };

export function tracingEnabled(): boolean {
  return Boolean(holder.__botGptTracing);
}

/** Registers the global tracer provider once; a no-op without an endpoint. */
export async function startTracing(options: { endpoint?: string; serviceName?: string } = {}): Promise<boolean> {
  if (holder.__botGptTracing) return true;
  const endpoint = options.endpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return false;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? env.OTEL_SERVICE_NAME }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  holder.__botGptTracing = provider;
  log.info({ endpoint: new URL(endpoint).origin }, "tracing to OTLP collector");
  return true;
}

/** Sends the spans still buffered (tests; a scrape of a short-lived process). */
export async function flushTracing(): Promise<void> {
  await holder.__botGptTracing?.forceFlush();
}

/** Flushes and stops the tracer provider; call once on process shutdown. Never throws. */
export async function shutdownTracing(): Promise<void> {
  const tracing = holder.__botGptTracing;
  if (!tracing) return;
  holder.__botGptTracing = null;
  try {
    await tracing.shutdown();
  } catch (error) {
    log.warn({ error: errorMessage(error) }, "tracing shutdown failed; buffered spans lost");
  }
}

/**
 * The AI SDK's `experimental_telemetry` for one call: spans named after `functionId`, with
 * `metadata` as attributes. Prompts and replies stay out of spans unless LOG_MESSAGE_CONTENT is on,
 * so message content never leaves the process by default. Undefined while tracing is off.
 */
export function aiTelemetry(functionId: string, metadata: Record<string, AttributeValue> = {}) {
  if (!tracingEnabled()) return undefined;
  return { isEnabled: true, functionId, metadata, recordInputs: env.LOG_MESSAGE_CONTENT, recordOutputs: env.LOG_MESSAGE_CONTENT };
}
