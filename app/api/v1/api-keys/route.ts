import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeApiKey } from "@/lib/api/serialize";
import { createApiKey, listApiKeys } from "@/lib/db/queries/api-keys";
import { createApiKeySchema } from "./schema";

export const dynamic = "force-dynamic";

/** Lists the caller's active keys; the key itself is never returned after creation. */
export const GET = withAuth(
  async ({ user }) => {
    const keys = await listApiKeys({ userId: user.id });
    return json({ data: keys.map(serializeApiKey), next_cursor: null });
  },
  // A leaked key must not be able to enumerate (and then revoke) its owner's other keys.
  { sessionOnly: true },
);

/** Browser session only: an API key cannot mint another key. */
export const POST = withAuth(
  async ({ user, body }) => {
    const { apiKey, key } = await createApiKey({
      userId: user.id,
      name: body.name,
      scopes: body.scopes,
      expiresAt: body.expires_at ? new Date(body.expires_at) : null,
    });
    return json({ ...serializeApiKey(apiKey), key }, 201, { "cache-control": "no-store" });
  },
  // Not recorded for idempotent replay: the stored response would hold the plain key.
  { body: createApiKeySchema, sessionOnly: true, idempotent: false },
);

export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
