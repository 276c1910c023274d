import { timingSafeEqual } from "node:crypto";
import { AppError } from "@/lib/api/errors";
import { withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
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
export const GET = withApi(async ({ request }) => {
  if (!authorized(request)) {
    throw new AppError("unauthenticated", "Send Authorization: Bearer <METRICS_TOKEN>.", { headers: { "www-authenticate": "Bearer" } });
  }
  return new Response(await metrics.registry.metrics(), {
    headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
  });
});

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
