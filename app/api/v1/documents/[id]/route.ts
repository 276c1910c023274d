import { json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeDocument } from "@/lib/api/serialize";
import { deleteDocument, getDocumentOrThrow } from "@/lib/db/queries/documents";

export const dynamic = "force-dynamic";

export const GET = withAuth(async ({ user, params }) => {
  const document = await getDocumentOrThrow({ id: params.id ?? "", userId: user.id });
  return json(serializeDocument(document));
}, { scope: "documents:read" });

export const DELETE = withAuth(async ({ user, params }) => {
  await deleteDocument({ id: params.id ?? "", userId: user.id });
  return new Response(null, { status: 204 });
}, { scope: "documents:write" });

export const { OPTIONS, POST, PUT, PATCH } = otherMethods({ GET, DELETE });
