import { timingSafeEqual } from "node:crypto";
import { AppError, problemResponse } from "@/lib/api/errors";
import { requestIdFor } from "@/lib/api/handler";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics";

export const dynamic = "force-dynamic";

function authorized(request: Request): boolean {
  if (!env.METRICS_TOKEN) return true;
  const sent = Buffer.from(request.headers.get("authorization") ?? "");
  const expected = Buffer.from(`Bearer ${env.METRICS_TOKEN}`);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/** Prometheus text exposition of this process's metrics; requires `METRICS_TOKEN` when it is set. */
export async function GET(request: Request) {
  if (!authorized(request)) {
    const error = new AppError("unauthenticated", "Send Authorization: Bearer <METRICS_TOKEN>.", { headers: { "www-authenticate": "Bearer" } });
    return problemResponse(error, requestIdFor(request));
  }
  return new Response(await metrics.registry.metrics(), {
    headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
  });
}
