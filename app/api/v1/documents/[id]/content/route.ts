import { withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { getDocumentBytes } from "@/lib/db/queries/documents";

export const dynamic = "force-dynamic";

/** The original file, inline, so a browser's PDF viewer opens it (and honours `#page=N`). */
export const GET = withAuth(async ({ user, params }) => {
  const { document, bytes } = await getDocumentBytes({ id: params.id ?? "", userId: user.id });
  const isPdf = document.mimeType === "application/pdf";
  const headers: Record<string, string> = {
    "content-type": isPdf ? "application/pdf" : `${document.mimeType}; charset=utf-8`,
    "content-length": String(bytes.length),
    "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(document.filename)}`,
    "cache-control": "private, max-age=3600",
    etag: `"${document.sha256}"`,
  };
  // Text is shown as text and can never run as a page; Chrome's PDF viewer does not load in a sandbox.
  if (!isPdf) headers["content-security-policy"] = "sandbox; default-src 'none'";
  return new Response(new Uint8Array(bytes), { status: 200, headers });
}, { scope: "documents:read" });

export const { OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
