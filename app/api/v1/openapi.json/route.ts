import { withApi, json } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { openApiDocument } from "../openapi-document";

export const dynamic = "force-dynamic";

/** Public: the OpenAPI 3.1 description of /api/v1, generated from the handlers' schemas. */
export const GET = withApi(async () => json(openApiDocument(), 200, { "cache-control": "public, max-age=300" }));

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
