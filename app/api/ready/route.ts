import { sql } from "drizzle-orm";
import { problemResponse, AppError } from "@/lib/api/errors";
import { getHandle } from "@/lib/db/client";

export const dynamic = "force-dynamic";

/** Ready once the database answers and migrations have been applied (getHandle migrates). */
export async function GET() {
  try {
    const { db, driver } = await getHandle();
    await db.execute(sql`select 1`);
    return Response.json({ status: "ready", database: driver });
  } catch (error) {
    console.error("readiness check failed", error);
    return problemResponse(new AppError("service_unavailable", "The database is not reachable."));
  }
}
