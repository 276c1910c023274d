import { AppError } from "@/lib/api/errors";
import { withApi } from "@/lib/api/handler";

export const dynamic = "force-dynamic";

/** Unknown /api/v1 paths answer problem+json like the rest of the API, not an HTML page. */
const notFound = withApi(async ({ request }) => {
  const path = new URL(request.url).pathname;
  throw new AppError("route_not_found", `There is no endpoint at ${path}. See /api/v1/openapi.json.`);
});

export { notFound as GET, notFound as OPTIONS, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
