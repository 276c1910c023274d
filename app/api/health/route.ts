import { withApi } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";

export const dynamic = "force-dynamic";

/** Liveness: the process answers. Readiness (database, migrations) is /api/ready. */
export const GET = withApi(async () => Response.json({ status: "ok" }));

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
