import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness";

/**
 * OpenTelemetry: with an endpoint, a model call's AI SDK spans reach an OTLP/HTTP collector (a
 * loopback server here), named by the SDK and tagged with our function id, without the prompt or
 * the reply in them.
 */

type Span = { name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> };
type ExportRequest = {
  resourceSpans: Array<{ resource: { attributes: Span["attributes"] }; scopeSpans: Array<{ spans: Span[] }> }>;
};

let h: Harness;
let collector: Server;
let endpoint: string;
const received: Array<{ path: string; contentType: string; body: string }> = [];

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", contentType: req.headers["content-type"] ?? "", body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;
  h = await startHarness();
});
afterAll(async () => {
  await (await import("@/lib/telemetry")).shutdownTracing();
  await new Promise((resolve) => collector.close(resolve));
  await h.close();
});

describe("tracing", () => {
  it("is off, and the AI SDK's telemetry with it, until an endpoint is given", async () => {
    const telemetry = await import("@/lib/telemetry");
    expect(await telemetry.startTracing({ endpoint: undefined })).toBe(false);
    expect(telemetry.tracingEnabled()).toBe(false);
    expect(telemetry.aiTelemetry("chat.reply")).toBeUndefined();
  });

  it("exports a model call's AI SDK spans to the collector, without message content", async () => {
    const telemetry = await import("@/lib/telemetry");
    const { streamModel } = await import("@/lib/chat/generate");
    const { resolveModel } = await import("@/lib/ai/providers");
    expect(await telemetry.startTracing({ endpoint, serviceName: "bot-gpt-trace-test" })).toBe(true);
    expect(telemetry.aiTelemetry("chat.reply", { model: "m" })).toMatchObject({ isEnabled: true, functionId: "chat.reply", recordInputs: false, recordOutputs: false });

    const prompt = "tell me about the purple okapi";
    const outcome = await streamModel({
      resolved: resolveModel("openai:gpt-4o-mini"),
      system: null,
      messages: [{ role: "user", content: prompt }],
      signal: new AbortController().signal,
    });
    expect(outcome.problem).toBeNull();
    expect(outcome.text).toContain("purple okapi");
    await telemetry.flushTracing();

    const exports = received.filter((r) => r.path === "/v1/traces");
    expect(exports.length).toBeGreaterThan(0);
    expect(exports[0]!.contentType).toContain("application/json");
    const requests = exports.map((r) => JSON.parse(r.body) as ExportRequest);
    const spans = requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
    const names = spans.map((s) => s.name);
    expect(names).toContain("ai.streamText");
    expect(names).toContain("ai.streamText.doStream");
    const call = spans.find((s) => s.name === "ai.streamText")!;
    const attribute = (key: string) => call.attributes.find((a) => a.key === key)?.value;
    expect(attribute("ai.telemetry.functionId")).toEqual({ stringValue: "chat.reply" });
    expect(attribute("ai.telemetry.metadata.provider")).toEqual({ stringValue: "openai" });
    expect(attribute("ai.model.id")).toEqual({ stringValue: "gpt-4o-mini" });
    const service = requests[0]!.resourceSpans[0]!.resource.attributes.find((a) => a.key === "service.name");
    expect(service?.value).toEqual({ stringValue: "bot-gpt-trace-test" });
    // Neither the prompt nor the reply left the process.
    for (const { body } of exports) expect(body).not.toContain("purple okapi");
  });
});
