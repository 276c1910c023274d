import { validationError } from "@/lib/api/errors";
import { assertScope, json, withAuth } from "@/lib/api/handler";
import { otherMethods } from "@/lib/api/methods";
import { serializeDocument } from "@/lib/api/serialize";
import { getConversationOrThrow } from "@/lib/db/queries/conversations";
import { attachDocument, createDocument, listDocuments } from "@/lib/db/queries/documents";
import { env } from "@/lib/env";
import { kickIngestion } from "@/lib/retrieval/queue";
import { acceptUpload } from "@/lib/retrieval/upload";
import { listDocumentsQuerySchema, uploadDocumentSchema } from "./schema";

export const dynamic = "force-dynamic";

export const GET = withAuth(
  async ({ user, query }) => {
    const page = await listDocuments({ userId: user.id, ...query });
    return json({ data: page.rows.map(serializeDocument), next_cursor: page.nextCursor });
  },
  { query: listDocumentsQuerySchema, scope: "documents:read" },
);

/** The form as an object for the schema: a field sent twice becomes an array (and fails it). */
function formFields(form: FormData): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    fields[key] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

export const POST = withAuth(
  async ({ user, apiKey, form }) => {
    const parsed = uploadDocumentSchema.safeParse(formFields(form ?? new FormData()));
    if (!parsed.success) throw validationError(parsed.error);
    const fields = parsed.data;
    if (fields.conversation_id) {
      // Attaching changes the conversation: the key needs that scope too, and it must be ours.
      assertScope(apiKey, "conversations:write");
      await getConversationOrThrow({ id: fields.conversation_id, userId: user.id });
    }
    const upload = await acceptUpload(fields.file, { maxBytes: env.MAX_UPLOAD_BYTES, maxPages: env.MAX_PDF_PAGES });
    const { document } = await createDocument({
      userId: user.id,
      ...upload,
      quota: { maxBytes: env.STORAGE_QUOTA_BYTES, maxDocuments: env.MAX_DOCUMENTS_PER_USER },
    });
    if (fields.conversation_id) {
      await attachDocument({ conversationId: fields.conversation_id, userId: user.id, documentId: document.id });
    }
    // Ingestion runs in the background on this instance (and any other that polls the queue).
    void kickIngestion();
    return json(serializeDocument(document), 202, { location: `/api/v1/documents/${document.id}` });
  },
  { multipart: { maxBytes: env.MAX_UPLOAD_BYTES }, scope: "documents:write" },
);

export const { OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
