import { sql } from "drizzle-orm";
import { AppError } from "@/lib/api/errors";
import { withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { getHandle } from "@/lib/db/client";
import { errorMessage, log } from "@/lib/log";
import { pingRedis } from "@/lib/redis";
import { isDraining } from "@/lib/shutdown";

export const dynamic = "force-dynamic";

const REDIS_TIMEOUT_MS = 1_000;

/**
 * Ready to take traffic: not shutting down, the database answers and is migrated (getHandle
 * migrates before it resolves), and Redis answers PING when REDIS_URL is set.
 */
export const GET = withApi(async () => {
  if (isDraining()) {
    throw new AppError("service_unavailable", "This instance is shutting down.", { extensions: { reason: "draining" }, headers: { "Retry-After": "5" } });
  }
  let database: "pglite" | "postgres";
  try {
    const { db, driver } = await getHandle();
    await db.execute(sql`select 1`);
    database = driver;
  } catch (error) {
    log.error({ event: "readiness_failed", dependency: "database", err: errorMessage(error) }, "readiness check failed");
    throw new AppError("service_unavailable", "The database is not reachable.", { extensions: { reason: "database" } });
  }
  try {
    const redis = await pingRedis(REDIS_TIMEOUT_MS);
    return Response.json({ status: "ready", database, migrated: true, redis });
  } catch (error) {
    log.error({ event: "readiness_failed", dependency: "redis", err: errorMessage(error) }, "readiness check failed");
    throw new AppError("service_unavailable", "Redis is not reachable.", { extensions: { reason: "redis" } });
  }
});

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
