import { withApi } from "@/lib/api/handler";

export const dynamic = "force-dynamic";

/** Liveness: the process answers. Readiness (database, migrations) is /api/ready. */
export const GET = withApi(async () => Response.json({ status: "ok" }));
