import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { revokeApiKey } from "@/lib/db/queries/api-keys";

export const dynamic = "force-dynamic";

/** Revokes a key at once; requests with it answer 401 from then on. */
export const DELETE = withAuth(
  async ({ user, params }) => {
    await revokeApiKey({ id: params.id ?? "", userId: user.id });
    return new Response(null, { status: 204 });
  },
  { sessionOnly: true },
);

export const { GET, HEAD, OPTIONS, POST, PUT, PATCH } = otherMethods({ DELETE });
