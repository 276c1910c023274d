import { z } from "zod";
import { pageQuerySchema } from "@/lib/api/pagination";

export const listDocumentsQuerySchema = pageQuerySchema;

/** The multipart fields of an upload; anything else is refused. */
export const uploadDocumentSchema = z.strictObject({
  file: z
    .custom<File>((value) => value instanceof File, "send exactly one file in the `file` field")
    .meta({ type: "string", format: "binary", description: "A PDF, plain-text (.txt) or Markdown (.md) file" }),
  conversation_id: z.uuid().optional().describe("Attach the document to this conversation (which becomes grounded)"),
});
