import { timingSafeEqual } from "node:crypto";
import { AppError } from "@/lib/api/errors";
import { withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics";

export const dynamic = "force-dynamic";

/**
 * Closed unless configured: with METRICS_TOKEN the caller must send it as a bearer token; without
 * one the endpoint is open only when METRICS_PUBLIC says so. The series name models, providers and
 * routes in use and the traffic an instance takes, which is not for anyone on the internet.
 */
function authorize(request: Request): void {
  if (!env.METRICS_TOKEN) {
    if (env.METRICS_PUBLIC) return;
    throw new AppError(
      "forbidden",
      "Metrics are not enabled. Set METRICS_TOKEN (at least 16 characters) and scrape with Authorization: Bearer <METRICS_TOKEN>, or set METRICS_PUBLIC=true to serve them without a token on a private network.",
    );
  }
  const sent = Buffer.from(request.headers.get("authorization") ?? "");
  const expected = Buffer.from(`Bearer ${env.METRICS_TOKEN}`);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new AppError("unauthenticated", "Send Authorization: Bearer <METRICS_TOKEN>.", { headers: { "www-authenticate": "Bearer" } });
  }
}

/** Prometheus text exposition of this process's metrics. */
export const GET = withApi(async ({ request }) => {
  authorize(request);
  return new Response(await metrics.registry.metrics(), {
    headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
  });
});

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
